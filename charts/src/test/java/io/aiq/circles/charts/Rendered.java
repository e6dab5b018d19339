package io.aiq.circles.charts;

import com.marcnuri.helm.Helm;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** The chart rendered by Helm (helm template), read back as Kubernetes objects. */
final class Rendered {
  static final Path CHART = Path.of("aiq-circles");
  static final String RELEASE = "circles";
  static final String NAMESPACE = "vision";
  private static final KubernetesSerialization SERIALIZATION = new KubernetesSerialization();

  final String yaml;
  final List<HasMetadata> objects = new ArrayList<>();

  private Rendered(String yaml) {
    this.yaml = yaml;
    objects.addAll(parse(yaml));
  }

  /** Every document of a multi-document YAML stream that is an object, read as its Kubernetes kind. */
  static List<HasMetadata> parse(String yaml) {
    List<HasMetadata> out = new ArrayList<>();
    for (String doc : yaml.split("(?m)^---\\s*$")) {
      if (doc.lines().anyMatch(l -> l.startsWith("kind:"))) {
        try {
          out.add(SERIALIZATION.unmarshal(doc, HasMetadata.class));
        } catch (RuntimeException e) {
          throw new AssertionError("a document does not read as a Kubernetes object: " + e.getMessage() + "\n" + doc, e);
        }
      }
    }
    return out;
  }

  /** Renders the chart with these values files (relative to the chart) and --set pairs. */
  static Rendered with(List<String> valuesFiles, Map<String, Object> sets) {
    var template = new Helm(CHART).template().withName(RELEASE).withNamespace(NAMESPACE).withKubeVersion("1.30.0");
    for (String file : valuesFiles) {
      template.withValuesFile(CHART.resolve(file));
    }
    sets.forEach(template::set);
    return new Rendered(template.call());
  }

  static Rendered with(String... valuesFiles) {
    return with(List.of(valuesFiles), Map.of());
  }

  <T extends HasMetadata> List<T> all(Class<T> type) {
    return objects.stream().filter(type::isInstance).map(type::cast).toList();
  }

  List<GenericKubernetesResource> custom(String kind) {
    return objects.stream().filter(o -> o instanceof GenericKubernetesResource && kind.equals(o.getKind()))
        .map(GenericKubernetesResource.class::cast).toList();
  }

  <T extends HasMetadata> Optional<T> named(Class<T> type, String name) {
    return all(type).stream().filter(o -> name.equals(o.getMetadata().getName())).findFirst();
  }

  Deployment deployment(String role) {
    return named(Deployment.class, RELEASE + "-aiq-circles-" + role)
        .orElseThrow(() -> new AssertionError("no Deployment for " + role + " in " + names()));
  }

  List<String> names() {
    return objects.stream().map(o -> o.getKind() + "/" + o.getMetadata().getName()).toList();
  }

  /** The application's configuration as a pod gets it from these settings (its own loader, defaults included). */
  static io.aiq.circles.config.AppConfig appConfig(Map<String, String> env) throws Exception {
    io.vertx.core.Vertx vertx = io.vertx.core.Vertx.vertx();
    try {
      return io.aiq.circles.config.ConfigLoader.load(vertx, env, null).await(10, java.util.concurrent.TimeUnit.SECONDS);
    } finally {
      vertx.close().await(10, java.util.concurrent.TimeUnit.SECONDS);
    }
  }

  static Container app(Deployment d) {
    return d.getSpec().getTemplate().getSpec().getContainers().get(0);
  }

  static Optional<String> env(Container c, String name) {
    return c.getEnv().stream().filter(e -> name.equals(e.getName())).map(EnvVar::getValue).findFirst();
  }

  /**
   * The AIQ_* settings a pod of this Deployment gets: its ConfigMaps (envFrom), its own env values, and
   * the values of Secrets the release renders itself (the generated webhook key); references to
   * Secrets made outside the chart are left out.
   */
  Map<String, String> settings(Deployment d) {
    Map<String, String> env = new LinkedHashMap<>();
    Container c = app(d);
    if (c.getEnvFrom() != null) {
      c.getEnvFrom().stream().filter(f -> f.getConfigMapRef() != null).forEach(f -> named(ConfigMap.class,
          f.getConfigMapRef().getName()).orElseThrow().getData().forEach(env::put));
    }
    c.getEnv().stream().filter(e -> e.getValue() != null).forEach(e -> env.put(e.getName(), e.getValue()));
    c.getEnv().stream().filter(e -> e.getValueFrom() != null && e.getValueFrom().getSecretKeyRef() != null)
        .forEach(e -> named(io.fabric8.kubernetes.api.model.Secret.class, e.getValueFrom().getSecretKeyRef().getName())
            .map(s -> s.getData() == null ? null : s.getData().get(e.getValueFrom().getSecretKeyRef().getKey()))
            .ifPresent(b64 -> env.put(e.getName(), new String(java.util.Base64.getDecoder().decode(b64),
                java.nio.charset.StandardCharsets.UTF_8))));
    return env;
  }
}
