package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.app.AppProcess;
import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.LabelSelector;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPeer;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicyPort;
import io.vertx.core.Vertx;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What a CNI that enforces NetworkPolicies would do to the chart's pods, simulated on one machine: each
 * rendered Deployment is started as an application process with the settings its pods get (the
 * ConfigMap and the container's env), then every TCP port each process listens on is looked up: it must
 * be a declared containerPort of that Deployment and be allowed in by the rendered NetworkPolicy for that
 * pod's labels (ports other than http: from, and out of, the release's other pods). A port the chart
 * does not know of (an event bus on a random port) is exactly what such a cluster would drop. Finally an
 * upload goes through the API Service's pods and its job must succeed, so the layout works as rendered.
 *
 * <p>What the cluster provides and a laptop does not is substituted: each pod has its own IP, so the
 * processes here get a free local port for each containerPort (every {@code AIQ_*_PORT} setting of that
 * value is moved, and listening ports are mapped back); the pod IP ({@code status.podIP}) is 127.0.0.1;
 * the headless Service's DNS is replaced by the list of the other processes; Kafka, PostgreSQL and the
 * shared image store are the tests' own; the detector is the dummy one (the image's SavedModel path is
 * not on this machine, and a model listens on nothing).
 */
class ListeningPortsTest {
  @TempDir
  Path dir;

  @Test
  void in_the_default_layout_every_process_listens_only_on_its_declared_http_port_and_the_policy_lets_it_in()
      throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("networkPolicy.enabled", true));

    Map<String, Set<Integer>> listening = startAndCheck(r);

    assertThat(listening.values()).as("no process of the default layout runs a clustered event bus or Hazelcast")
        .allSatisfy(ports -> assertThat(ports).containsExactly(8080));
  }

  @Test
  void in_the_clustered_layout_hazelcast_and_the_event_bus_listen_on_declared_ports_the_policy_opens_between_pods()
      throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("mode", "split-clustered", "networkPolicy.enabled", true));

    Map<String, Set<Integer>> listening = startAndCheck(r);

    assertThat(listening.values()).as("each clustered process listens on more than http (Hazelcast, the event bus)")
        .allSatisfy(ports -> assertThat(ports).hasSizeGreaterThanOrEqualTo(3));
  }

  /** A rendered Deployment as a process: its settings, and the local port standing in for each containerPort. */
  private record Pod(String name, Map<String, String> labels, Map<Integer, Integer> localToDeclared,
                     Map<String, String> env, List<ContainerPort> ports) {
  }

  /** Starts every Deployment of the rendering, checks each one's listening ports; returns them (declared numbers). */
  private Map<String, Set<Integer>> startAndCheck(Rendered r) throws Exception {
    TestEnv env = new TestEnv();
    List<Pod> pods = new ArrayList<>();
    Set<Integer> taken = new HashSet<>();
    for (Deployment d : r.all(Deployment.class)) {
      Map<String, String> settings = new LinkedHashMap<>();
      r.settings(d).forEach((k, v) -> {
        if (k.startsWith("AIQ_")) {
          settings.put(k, v);
        }
      });
      List<ContainerPort> ports = Rendered.app(d).getPorts();
      Map<Integer, Integer> localToDeclared = new LinkedHashMap<>();
      for (ContainerPort p : ports) {
        int local;
        do {
          local = TestEnv.freePort();
        } while (!taken.add(local));
        localToDeclared.put(local, p.getContainerPort());
        for (Map.Entry<String, String> e : settings.entrySet()) {
          if (e.getKey().endsWith("_PORT") && e.getValue().equals(String.valueOf(p.getContainerPort()))) {
            e.setValue(String.valueOf(local));
          }
        }
      }
      pods.add(new Pod(d.getMetadata().getName(), d.getSpec().getTemplate().getMetadata().getLabels(), localToDeclared,
          settings, ports));
    }
    assertThat(pods).as("the rendering has Deployments").isNotEmpty();
    // the headless Service's DNS answer: every pod's Hazelcast port (the containerPort named hazelcast)
    String members = pods.stream().flatMap(p -> p.ports().stream().filter(cp -> "hazelcast".equals(cp.getName()))
            .map(cp -> "127.0.0.1:" + localOf(p, cp.getContainerPort())))
        .collect(Collectors.joining(","));
    for (Pod p : pods) {
      Map<String, String> e = p.env();
      e.put("AIQ_KAFKA_BOOTSTRAP", io.aiq.circles.testing.KafkaFixture.bootstrap());
      e.put("AIQ_KAFKA_TOPIC_PREFIX", env.topicPrefix());
      e.put("AIQ_KAFKA_GROUP_PREFIX", "g" + env.id());
      e.put("AIQ_KAFKA_PARTITIONS", "2");
      e.put("AIQ_KAFKA_REPLICATION_FACTOR", "1");
      e.put("AIQ_DATABASE_URL", env.databaseUrl());
      e.put("AIQ_DATABASE_USER", "");
      e.put("AIQ_STORE_ROOT", env.storeRoot().toString());
      e.put("AIQ_DETECTOR", "dummy");
      if ("true".equals(e.get("AIQ_CLUSTER_ENABLED"))) {
        e.put("AIQ_CLUSTER_HOST", "127.0.0.1");
        e.put("AIQ_CLUSTER_KUBERNETES_SERVICE_DNS", "");
        e.put("AIQ_CLUSTER_MEMBERS", members);
      }
    }

    List<AppProcess> started = new ArrayList<>();
    Vertx vertx = Vertx.vertx();
    try {
      Map<String, AppProcess> byName = new LinkedHashMap<>();
      for (Pod p : pods) {
        int http = Integer.parseInt(p.env().get("AIQ_HTTP_PORT"));
        AppProcess process = AppProcess.startWithEnv(p.env(), dir, p.name(), http);
        started.add(process);
        byName.put(p.name(), process);
      }

      Map<String, Set<Integer>> out = new LinkedHashMap<>();
      List<String> violations = new ArrayList<>();
      for (Pod p : pods) {
        Set<Integer> declared = new TreeSet<>();
        for (int local : listeningPorts(byName.get(p.name()).pid())) {
          Integer port = p.localToDeclared().get(local);
          if (port == null) {
            violations.add(p.name() + " listens on port " + local + ", which is no containerPort of its pods "
                + "(declared: " + p.ports().stream().map(cp -> cp.getName() + "=" + cp.getContainerPort()).toList() + ")");
            continue;
          }
          declared.add(port);
          String name = p.ports().stream().filter(cp -> cp.getContainerPort() == port).findFirst().orElseThrow().getName();
          if (!ingressAllows(r, p, port, name, "http".equals(name) ? List.of() : pods)) {
            violations.add(p.name() + " listens on " + name + " " + port + ", which the NetworkPolicy does not let in"
                + ("http".equals(name) ? "" : " from the release's other pods"));
          }
          if (!"http".equals(name)) {
            for (Pod peer : pods) {
              if (!egressAllows(r, peer, p, port, name)) {
                violations.add(peer.name() + " may not connect out to " + p.name() + "'s " + name + " " + port);
              }
            }
          }
        }
        out.put(p.name(), declared);
      }
      assertThat(violations).as("what a policy-enforcing cluster would drop").isEmpty();

      // the layout as a whole answers an upload through the pods of the API Service
      Pod api = apiPod(r, pods);
      try (ApiClient client = new ApiClient(vertx, byName.get(api.name()).port())) {
        var upload = client.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg");
        assertThat(upload.statusCode()).as(upload.bodyAsString()).isEqualTo(202);
        String job = upload.bodyAsJsonObject().getString("jobId");
        assertThat(client.awaitJob(job, Duration.ofSeconds(90)).getString("status"))
            .as(started.stream().map(AppProcess::log).collect(Collectors.joining("\n----\n"))).isEqualTo("succeeded");
      }
      return out;
    } finally {
      for (AppProcess p : started) {
        p.close();
      }
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static int localOf(Pod p, int declared) {
    return p.localToDeclared().entrySet().stream().filter(e -> e.getValue() == declared).findFirst().orElseThrow().getKey();
  }

  /** The pod behind the API Service (the Service named after the release). */
  private static Pod apiPod(Rendered r, List<Pod> pods) {
    Service svc = r.named(Service.class, Rendered.RELEASE + "-aiq-circles").orElseThrow();
    Map<String, String> selector = svc.getSpec().getSelector();
    return pods.stream().filter(p -> p.labels().entrySet().containsAll(selector.entrySet())).findFirst()
        .orElseThrow(() -> new AssertionError("the API Service " + selector + " selects no Deployment"));
  }

  private static List<NetworkPolicy> selecting(Rendered r, Pod pod, String policyType) {
    List<NetworkPolicy> out = r.all(NetworkPolicy.class).stream()
        .filter(np -> matches(np.getSpec().getPodSelector(), pod.labels()))
        .filter(np -> np.getSpec().getPolicyTypes() != null && np.getSpec().getPolicyTypes().contains(policyType))
        .toList();
    assertThat(out).as("a NetworkPolicy with " + policyType + " selects " + pod.name()).isNotEmpty();
    return out;
  }

  /** Some ingress rule of a policy selecting the pod opens the port, from each of {@code from} (empty: anyone). */
  private static boolean ingressAllows(Rendered r, Pod pod, int port, String name, List<Pod> from) {
    return selecting(r, pod, "Ingress").stream().flatMap(np -> np.getSpec().getIngress().stream())
        .filter(rule -> opens(rule.getPorts(), port, name))
        .anyMatch(rule -> from.stream().allMatch(peer -> admits(rule.getFrom(), peer)));
  }

  /** Some egress rule of a policy selecting {@code source} lets it reach the port on {@code target}. */
  private static boolean egressAllows(Rendered r, Pod source, Pod target, int port, String name) {
    return selecting(r, source, "Egress").stream().flatMap(np -> np.getSpec().getEgress().stream())
        .filter(rule -> opens(rule.getPorts(), port, name))
        .anyMatch(rule -> admits(rule.getTo(), target));
  }

  private static boolean opens(List<NetworkPolicyPort> ports, int port, String name) {
    return ports == null || ports.isEmpty() || ports.stream().anyMatch(p -> (p.getProtocol() == null || "TCP".equals(p.getProtocol()))
        && p.getPort() != null && (p.getPort().getIntVal() != null ? p.getPort().getIntVal() == port : name.equals(p.getPort().getStrVal())));
  }

  /** Peers of a rule admit a pod of the release's own namespace: no peers (anyone), or a pod selector matching it. */
  private static boolean admits(List<NetworkPolicyPeer> peers, Pod pod) {
    return peers == null || peers.isEmpty() || peers.stream().anyMatch(peer -> peer.getIpBlock() == null
        && peer.getNamespaceSelector() == null && peer.getPodSelector() != null && matches(peer.getPodSelector(), pod.labels()));
  }

  private static boolean matches(LabelSelector selector, Map<String, String> labels) {
    assertThat(selector.getMatchExpressions() == null || selector.getMatchExpressions().isEmpty())
        .as("the chart's selectors use matchLabels only").isTrue();
    return selector.getMatchLabels() == null || labels.entrySet().containsAll(selector.getMatchLabels().entrySet());
  }

  /** TCP ports in LISTEN state on sockets this process holds (its fds matched to /proc/PID/net/tcp{,6}). */
  static Set<Integer> listeningPorts(long pid) throws IOException {
    Set<String> inodes = new HashSet<>();
    try (Stream<Path> fds = Files.list(Path.of("/proc", String.valueOf(pid), "fd"))) {
      for (Path fd : fds.toList()) {
        try {
          String target = Files.readSymbolicLink(fd).toString();
          if (target.startsWith("socket:[")) {
            inodes.add(target.substring("socket:[".length(), target.length() - 1));
          }
        } catch (IOException e) {
          // closed meanwhile
        }
      }
    }
    Set<Integer> ports = new TreeSet<>();
    for (String table : List.of("tcp", "tcp6")) {
      Path file = Path.of("/proc", String.valueOf(pid), "net", table);
      if (!Files.exists(file)) {
        continue;
      }
      for (String line : Files.readAllLines(file).stream().skip(1).toList()) {
        String[] f = line.trim().split("\\s+");
        // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
        if (f.length > 9 && "0A".equals(f[3]) && inodes.contains(f[9])) {
          ports.add(Integer.parseInt(f[1].substring(f[1].lastIndexOf(':') + 1), 16));
        }
      }
    }
    return ports;
  }
}
