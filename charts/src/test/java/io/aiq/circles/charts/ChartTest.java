package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.marcnuri.helm.Helm;
import com.marcnuri.helm.LintResult;
import io.aiq.circles.config.AppConfig;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.autoscaling.v2.HorizontalPodAutoscaler;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import io.fabric8.kubernetes.api.model.policy.v1.PodDisruptionBudget;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The Helm chart as a platform engineer meets it: it lints, renders every documented set of
 * values, and what it renders is what the application needs (roles, probes, hardening, scaling on
 * the right topic and group).
 */
class ChartTest {
  /** The Deployments of the default layout and the AIQ_ROLES each runs. */
  private static final Map<String, String> SPLIT = Map.of("api", "gateway,ingest,queries", "inference", "inference",
      "results", "results,webhooks");
  private static final List<String> CLUSTERED_ROLES = List.of("gateway", "ingest", "queries", "inference", "results");
  private static final Rendered DEFAULTS = Rendered.with();
  private static final Rendered CLUSTERED = Rendered.with("ci/split-clustered-values.yaml");
  private static final Rendered ALL_ON = Rendered.with("ci/all-on-values.yaml");

  @Test
  void lint_strict_passes() {
    LintResult lint = new Helm(Rendered.CHART).lint().strict().call();

    assertThat(lint.isFailed()).as(String.join("\n", lint.getMessages())).isFalse();
  }

  @Test
  void the_default_layout_is_api_inference_and_results_writer_with_no_clustered_event_bus() throws Exception {
    assertThat(DEFAULTS.all(Deployment.class)).extracting(d -> d.getMetadata().getName())
        .containsExactlyInAnyOrderElementsOf(SPLIT.keySet().stream().map(k -> Rendered.RELEASE + "-aiq-circles-" + k).toList());
    java.util.Set<io.aiq.circles.config.Role> covered = java.util.EnumSet.noneOf(io.aiq.circles.config.Role.class);
    for (Map.Entry<String, String> e : SPLIT.entrySet()) {
      Deployment d = DEFAULTS.deployment(e.getKey());
      Container c = Rendered.app(d);
      assertThat(Rendered.env(c, "AIQ_ROLES")).contains(e.getValue());
      assertThat(c.getEnv()).as("no pod IP to advertise to a cluster").noneMatch(v -> v.getName().startsWith("AIQ_CLUSTER_"));
      assertThat(c.getPorts()).as(e.getKey() + " declares only http").extracting(p -> p.getName()).containsExactly("http");
      // the application, loaded from what the pod gets, runs these roles without a cluster (and accepts them:
      // an API process without ingest or queries would be refused at start)
      AppConfig config = Rendered.appConfig(DEFAULTS.settings(d));
      assertThat(config.cluster().enabled()).isFalse();
      assertThat(String.join(",", config.roles().stream().map(io.aiq.circles.config.Role::wire).toList()))
          .isEqualTo(e.getValue());
      covered.addAll(config.roles());
    }
    assertThat(covered).as("every role runs somewhere").containsExactlyInAnyOrder(io.aiq.circles.config.Role.values());
    assertThat(DEFAULTS.all(Service.class)).as("no headless cluster Service")
        .noneMatch(s -> "None".equals(s.getSpec().getClusterIP()));
    assertThat(DEFAULTS.names()).noneMatch(n -> n.endsWith("-cluster"));
    // the API Service, HPA and budgets follow the api Deployment
    Service api = DEFAULTS.named(Service.class, Rendered.RELEASE + "-aiq-circles").orElseThrow();
    assertThat(api.getSpec().getSelector()).containsEntry("app.kubernetes.io/component", "api");
  }

  @Test
  void with_store_on_a_filesystem_only_the_pods_that_write_or_read_blobs_mount_it() {
    assertThat(Rendered.app(DEFAULTS.deployment("api")).getVolumeMounts()).anyMatch(m -> m.getName().equals("store"));
    assertThat(Rendered.app(DEFAULTS.deployment("inference")).getVolumeMounts()).anyMatch(m -> m.getName().equals("store"));
    assertThat(Rendered.app(DEFAULTS.deployment("results")).getVolumeMounts()).noneMatch(m -> m.getName().equals("store"));
  }

  @Test
  void all_in_one_renders_a_single_deployment_running_every_role_without_clustering() {
    Rendered r = Rendered.with("ci/all-in-one-values.yaml");

    assertThat(r.all(Deployment.class)).hasSize(1);
    Deployment d = r.all(Deployment.class).get(0);
    assertThat(Rendered.env(Rendered.app(d), "AIQ_ROLES")).contains("gateway,ingest,queries,inference,results,webhooks");
    assertThat(r.settings(d)).containsEntry("AIQ_CLUSTER_ENABLED", "false");
  }

  @Test
  void split_clustered_roles_join_one_cluster_through_a_headless_service_that_lists_pods_before_they_are_ready()
      throws Exception {
    Service cluster = CLUSTERED.all(Service.class).stream().filter(s -> "None".equals(s.getSpec().getClusterIP()))
        .findFirst().orElseThrow();
    assertThat(cluster.getSpec().getPublishNotReadyAddresses()).isTrue();
    assertThat(cluster.getSpec().getPorts()).anyMatch(p -> p.getPort() == 5701);
    assertThat(CLUSTERED.all(Deployment.class)).hasSize(CLUSTERED_ROLES.size());
    for (String role : CLUSTERED_ROLES) {
      Deployment d = CLUSTERED.deployment(role);
      Map<String, String> settings = CLUSTERED.settings(d);
      assertThat(Rendered.env(Rendered.app(d), "AIQ_ROLES")).contains("results".equals(role) ? "results,webhooks" : role);
      assertThat(settings).containsEntry("AIQ_CLUSTER_ENABLED", "true")
          .containsEntry("AIQ_CLUSTER_KUBERNETES_SERVICE_DNS", cluster.getMetadata().getName() + "."
              + Rendered.NAMESPACE + ".svc.cluster.local");
      assertThat(Rendered.app(d).getEnv()).anyMatch(e -> e.getName().equals("AIQ_CLUSTER_HOST")
          && e.getValueFrom() != null && "status.podIP".equals(e.getValueFrom().getFieldRef().getFieldPath()));
      // the ports the application will listen on are the ones the container declares
      AppConfig config = Rendered.appConfig(settings);
      assertThat(Rendered.app(d).getPorts()).extracting(p -> p.getName() + "=" + p.getContainerPort())
          .containsExactlyInAnyOrder("http=" + config.http().port(), "hazelcast=" + config.cluster().port(),
              "eventbus=" + config.cluster().eventBusPort());
    }
    NetworkPolicy policy = CLUSTERED.all(NetworkPolicy.class).get(0);
    assertThat(policy.getSpec().getIngress().stream().flatMap(i -> i.getPorts().stream()).map(p -> p.getPort().getIntVal()))
        .contains(8080, 5701, 5710);
    assertThat(policy.getSpec().getEgress().stream().flatMap(i -> i.getPorts().stream()).map(p -> p.getPort().getIntVal()))
        .contains(5701, 5710);
  }

  @Test
  void every_pod_is_probed_on_the_health_endpoints() {
    for (Rendered r : List.of(DEFAULTS, ALL_ON, CLUSTERED)) {
      for (Deployment d : r.all(Deployment.class)) {
        Container c = Rendered.app(d);
        assertThat(c.getLivenessProbe().getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(c.getReadinessProbe().getHttpGet().getPath()).isEqualTo("/health/ready");
        assertThat(c.getStartupProbe().getHttpGet().getPath()).isEqualTo("/health/live");
        assertThat(c.getPorts()).anyMatch(p -> p.getContainerPort() == 8080);
      }
    }
  }

  @Test
  void every_pod_runs_non_root_on_a_read_only_filesystem_without_capabilities() {
    for (Rendered r : List.of(DEFAULTS, ALL_ON, Rendered.with("values-prod.yaml"))) {
      for (Deployment d : r.all(Deployment.class)) {
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getSecurityContext().getRunAsNonRoot()).isTrue();
        assertThat(pod.getSecurityContext().getSeccompProfile().getType()).isEqualTo("RuntimeDefault");
        for (Container c : pod.getContainers()) {
          assertThat(c.getSecurityContext().getReadOnlyRootFilesystem()).isTrue();
          assertThat(c.getSecurityContext().getAllowPrivilegeEscalation()).isFalse();
          assertThat(c.getSecurityContext().getCapabilities().getDrop()).containsExactly("ALL");
          assertThat(c.getVolumeMounts()).as("a writable /tmp").anyMatch(m -> m.getMountPath().equals("/tmp"));
        }
      }
    }
  }

  @Test
  void keda_scales_inference_on_the_topic_and_group_the_application_consumes() throws Exception {
    GenericKubernetesResource scaled = ALL_ON.custom("ScaledObject").get(0);
    Map<String, Object> spec = scaled.get("spec");
    @SuppressWarnings("unchecked")
    Map<String, Object> trigger = ((List<Map<String, Object>>) spec.get("triggers")).get(0);
    @SuppressWarnings("unchecked")
    Map<String, Object> metadata = (Map<String, Object>) trigger.get("metadata");

    AppConfig config = Rendered.appConfig(ALL_ON.settings(ALL_ON.deployment("inference")));

    assertThat(trigger.get("type")).isEqualTo("kafka");
    assertThat(metadata.get("topic")).isEqualTo(config.kafka().topics().imagesSubmitted());
    assertThat(metadata.get("consumerGroup")).isEqualTo(config.kafka().group("inference"));
    assertThat(metadata.get("bootstrapServers")).isEqualTo(config.kafka().bootstrap());
    // every pod runs inference.consumers consumers; more than the partitions would sit idle
    assertThat(((Number) spec.get("maxReplicaCount")).intValue() * config.inference().consumers())
        .isLessThanOrEqualTo(config.kafka().partitions());
    assertThat(ALL_ON.all(HorizontalPodAutoscaler.class)).noneMatch(h -> h.getMetadata().getName().endsWith("-inference"));
  }

  @Test
  void the_rendered_configmap_is_a_configuration_the_application_accepts() throws Exception {
    for (Rendered r : List.of(DEFAULTS, ALL_ON, CLUSTERED, Rendered.with("values-dev.yaml"), Rendered.with("values-stage.yaml"),
        Rendered.with("values-prod.yaml"), Rendered.with("values-kind.yaml"))) {
      for (Deployment d : r.all(Deployment.class)) {
        AppConfig config = Rendered.appConfig(r.settings(d));
        assertThat(config.store().root().toString()).isNotBlank();
        assertThat(config.upload().maxBytes()).isEqualTo(20971520);
      }
    }
  }

  @Test
  void every_option_on_renders_scaling_budgets_policies_mesh_ingress_and_monitoring() {
    assertThat(ALL_ON.all(HorizontalPodAutoscaler.class)).extracting(h -> h.getMetadata().getName())
        .anyMatch(n -> n.endsWith("-api")).anyMatch(n -> n.endsWith("-results"));
    assertThat(ALL_ON.all(PodDisruptionBudget.class)).isNotEmpty();
    NetworkPolicy policy = ALL_ON.all(NetworkPolicy.class).get(0);
    List<Integer> egressPorts = policy.getSpec().getEgress().stream().flatMap(e -> e.getPorts().stream())
        .map(p -> p.getPort().getIntVal()).toList();
    assertThat(egressPorts).contains(53, 9092, 5432);
    for (String kind : List.of("Gateway", "VirtualService", "PeerAuthentication", "ServiceMonitor", "ScaledObject")) {
      assertThat(ALL_ON.custom(kind)).as(kind).isNotEmpty();
    }
    assertThat(ALL_ON.names()).anyMatch(n -> n.startsWith("Ingress/"))
        .anyMatch(n -> n.startsWith("PersistentVolumeClaim/"));
  }

  @Test
  void every_rendered_object_reads_as_its_kind_with_no_unknown_fields() {
    for (Rendered r : List.of(DEFAULTS, ALL_ON, CLUSTERED, Rendered.with("ci/all-in-one-values.yaml"), Rendered.with("values-dev.yaml"),
        Rendered.with("values-stage.yaml"), Rendered.with("values-prod.yaml"), Rendered.with("values-kind.yaml"))) {
      assertThat(r.objects).isNotEmpty();
      for (HasMetadata o : r.objects) {
        boolean custom = List.of("ScaledObject", "ServiceMonitor", "Gateway", "VirtualService", "PeerAuthentication")
            .contains(o.getKind());
        assertThat(o instanceof GenericKubernetesResource).as(o.getKind() + " is a known kind").isEqualTo(custom);
        assertThat(o.getMetadata().getName()).matches("[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?");
        assertThat(UnknownFields.in(o)).as(o.getKind() + "/" + o.getMetadata().getName()).isEmpty();
      }
    }
  }

  @Test
  void the_readme_install_against_external_kafka_and_postgresql_takes_the_password_from_the_existing_secret()
      throws Exception {
    // the command in the README's "Kubernetes" section
    Rendered r = Rendered.with(List.of("values-prod.yaml"), Map.of("kafka.bootstrap", "kafka.example:9092",
        "database.url", "postgresql://db.example:5432/aiq", "database.user", "aiq", "database.existingSecret", "aiq-db",
        "image.tag", "0.1.0"));

    for (Deployment d : r.all(Deployment.class)) {
      Container c = Rendered.app(d);
      assertThat(c.getImage()).endsWith(":0.1.0");
      assertThat(c.getEnv()).anyMatch(e -> e.getName().equals("AIQ_DATABASE_PASSWORD") && e.getValueFrom() != null
          && "aiq-db".equals(e.getValueFrom().getSecretKeyRef().getName()));
      AppConfig config = Rendered.appConfig(r.settings(d));
      assertThat(config.kafka().bootstrap()).isEqualTo("kafka.example:9092");
      assertThat(config.database().url()).isEqualTo("postgresql://db.example:5432/aiq");
    }
  }

  @Test
  void the_schema_rejects_a_misspelt_key() {
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("gatway.replicas", 2)))
        .hasMessageContaining("gatway");
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("inference.keda.lagTreshold", 5)))
        .hasMessageContaining("lagTreshold");
  }

  @Test
  void the_schema_describes_every_key_of_values_yaml_and_every_setting_it_names_has_a_default() throws Exception {
    assertThat(SchemaCoverage.undescribed()).as("keys of values.yaml the schema lacks").isEmpty();
    assertThat(SchemaCoverage.unused()).as("schema properties values.yaml lacks").isEmpty();
  }

}
