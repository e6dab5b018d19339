package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.PersistentVolumeClaim;
import io.fabric8.kubernetes.api.model.ServiceAccount;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.networking.v1.NetworkPolicy;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/**
 * {@code store.type: s3}: every pod that reads or writes blobs gets the bucket as the application reads
 * its configuration, its keys only as references to an existing Secret (or none: the SDK's default
 * chain, IRSA), and no pod mounts a volume for the images nor does the chart claim one.
 */
class S3StoreSettingsTest {
  private static final Map<String, Object> S3 = Map.of("store.type", "s3", "store.s3.bucket", "images-bucket",
      "store.s3.prefix", "aiq/", "store.s3.endpoint", "http://minio.storage:9000", "store.s3.pathStyle", true,
      "store.s3.region", "eu-west-3");

  private static Rendered s3(Map<String, Object> more) {
    Map<String, Object> sets = new LinkedHashMap<>(S3);
    sets.putAll(more);
    return Rendered.with(List.of(), sets);
  }

  /** The configuration of each Deployment whose process reads or writes blobs; fails when there is none. */
  private static Map<Deployment, AppConfig> storeUsers(Rendered r) throws Exception {
    Map<Deployment, AppConfig> out = new LinkedHashMap<>();
    for (Deployment d : r.all(Deployment.class)) {
      AppConfig config = Rendered.appConfig(r.settings(d));
      if (config.roles().contains(Role.INGEST) || config.roles().contains(Role.INFERENCE)) {
        out.put(d, config);
      }
    }
    assertThat(out).as("Deployments running ingest or inference").isNotEmpty();
    return out;
  }

  private static Optional<EnvVar> envVar(Container c, String name) {
    return c.getEnv().stream().filter(e -> name.equals(e.getName())).findFirst();
  }

  @Test
  void with_s3_the_ingest_and_inference_pods_read_the_bucket_settings_as_the_application_does() throws Exception {
    for (AppConfig config : storeUsers(s3(Map.of())).values()) {
      assertThat(config.store().isS3()).isTrue();
      assertThat(config.store().s3().bucket()).isEqualTo("images-bucket");
      assertThat(config.store().s3().prefix()).isEqualTo("aiq/");
      assertThat(config.store().s3().endpoint()).isEqualTo("http://minio.storage:9000");
      assertThat(config.store().s3().pathStyle()).isTrue();
      assertThat(config.store().s3().region()).isEqualTo("eu-west-3");
      assertThat(config.store().s3().accessKeyId()).as("no Secret: the default chain").isEmpty();
    }
  }

  @Test
  void with_s3_no_claim_is_made_and_no_pod_mounts_a_store_volume() {
    Rendered r = s3(Map.of());

    assertThat(r.all(PersistentVolumeClaim.class)).isEmpty();
    for (Deployment d : r.all(Deployment.class)) {
      var pod = d.getSpec().getTemplate().getSpec();
      assertThat(pod.getVolumes()).as(d.getMetadata().getName()).noneMatch(v -> "store".equals(v.getName())
          || v.getPersistentVolumeClaim() != null);
      assertThat(Rendered.app(d).getVolumeMounts()).noneMatch(m -> "store".equals(m.getName()));
    }
  }

  @Test
  void the_split_layout_on_s3_needs_no_persistence_at_all() {
    Rendered r = s3(Map.of("store.persistence.enabled", false));

    assertThat(r.names()).contains("Deployment/" + Rendered.RELEASE + "-aiq-circles-api",
        "Deployment/" + Rendered.RELEASE + "-aiq-circles-inference");
    assertThat(r.all(PersistentVolumeClaim.class)).isEmpty();
  }

  @Test
  void an_existing_secret_reaches_the_pods_as_references_to_its_two_keys_only() throws Exception {
    Rendered r = s3(Map.of("store.s3.existingSecret", "aiq-s3"));

    for (Deployment d : storeUsers(r).keySet()) {
      Container c = Rendered.app(d);
      for (String[] ref : new String[][] {{"AIQ_STORE_S3_ACCESS_KEY_ID", "access-key-id"},
          {"AIQ_STORE_S3_SECRET_ACCESS_KEY", "secret-access-key"}}) {
        EnvVar e = envVar(c, ref[0]).orElseThrow(() -> new AssertionError(ref[0] + " in " + d.getMetadata().getName()));
        assertThat(e.getValue()).isNull();
        assertThat(e.getValueFrom().getSecretKeyRef().getName()).isEqualTo("aiq-s3");
        assertThat(e.getValueFrom().getSecretKeyRef().getKey()).isEqualTo(ref[1]);
      }
    }
    for (ConfigMap cm : r.all(ConfigMap.class)) {
      assertThat(cm.getData()).doesNotContainKeys("AIQ_STORE_S3_ACCESS_KEY_ID", "AIQ_STORE_S3_SECRET_ACCESS_KEY");
    }
  }

  @Test
  void without_a_secret_no_pod_gets_keys_and_the_sdk_default_chain_applies() {
    for (Deployment d : s3(Map.of()).all(Deployment.class)) {
      assertThat(envVar(Rendered.app(d), "AIQ_STORE_S3_ACCESS_KEY_ID")).isEmpty();
      assertThat(envVar(Rendered.app(d), "AIQ_STORE_S3_SECRET_ACCESS_KEY")).isEmpty();
    }
  }

  @Test
  void s3_without_a_bucket_is_refused_naming_the_value() {
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("store.type", "s3")))
        .hasMessageContaining("store.s3.bucket");
  }

  @Test
  void an_unknown_store_type_is_refused_by_the_schema() {
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("store.type", "gcs")))
        .hasMessageContaining("/store/type").hasMessageContaining("s3");
  }

  @Test
  void the_network_policy_opens_the_object_stores_port_only_with_s3() {
    List<Integer> withS3 = egressPorts(s3(Map.of("networkPolicy.enabled", true)));
    List<Integer> without = egressPorts(Rendered.with(List.of(), Map.of("networkPolicy.enabled", true)));

    assertThat(withS3).contains(443);
    assertThat(without).doesNotContain(443);
  }

  @Test
  void the_production_values_keep_the_images_in_s3_with_irsa_and_no_volume() throws Exception {
    Rendered prod = Rendered.with("values-prod.yaml");

    assertThat(prod.all(PersistentVolumeClaim.class)).isEmpty();
    for (AppConfig config : storeUsers(prod).values()) {
      assertThat(config.store().isS3()).isTrue();
      assertThat(config.store().s3().bucket()).isNotBlank();
      assertThat(config.store().s3().endpoint()).as("AWS S3").isEmpty();
    }
    assertThat(prod.all(ServiceAccount.class)).singleElement()
        .satisfies(sa -> assertThat(sa.getMetadata().getAnnotations()).containsKey("eks.amazonaws.com/role-arn"));
    assertThat(egressPorts(prod)).contains(443);
  }

  @Test
  void the_default_store_stays_a_filesystem_volume() throws Exception {
    Rendered r = Rendered.with();

    assertThat(r.all(PersistentVolumeClaim.class)).hasSize(1);
    for (Map.Entry<Deployment, AppConfig> e : storeUsers(r).entrySet()) {
      assertThat(e.getValue().store().isS3()).isFalse();
      assertThat(Rendered.app(e.getKey()).getVolumeMounts()).anyMatch(m -> "store".equals(m.getName()));
    }
  }

  private static List<Integer> egressPorts(Rendered r) {
    List<Integer> ports = new ArrayList<>();
    // the release's policy; the webhooks pods' own (<fullname>-webhooks) opens 80/443 to public addresses
    for (NetworkPolicy p : r.all(NetworkPolicy.class).stream()
        .filter(p -> !p.getMetadata().getName().endsWith("-webhooks")).toList()) {
      p.getSpec().getEgress().stream().filter(rule -> rule.getPorts() != null).forEach(rule -> rule.getPorts().stream()
          .filter(port -> port.getPort() != null).forEach(port -> ports.add(port.getPort().getIntVal())));
    }
    assertThat(ports).as("egress rules").isNotEmpty();
    return ports;
  }
}
