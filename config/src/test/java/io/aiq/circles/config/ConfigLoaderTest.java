package io.aiq.circles.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

@ExtendWith(VertxExtension.class)
class ConfigLoaderTest {

  private static AppConfig load(Vertx vertx, Map<String, String> env, JsonObject overrides) throws Exception {
    return ConfigLoader.load(vertx, env, overrides).await(10, TimeUnit.SECONDS);
  }

  @Test
  void the_defaults_run_every_role_with_the_shipped_model_on_local_services(Vertx vertx) throws Exception {
    AppConfig c = load(vertx, Map.of(), null);

    assertThat(c.roles()).containsExactlyInAnyOrder(Role.GATEWAY, Role.INGEST, Role.QUERIES, Role.INFERENCE, Role.RESULTS);
    assertThat(c.cluster().enabled()).isFalse();
    assertThat(c.cluster().eventBusPort()).as("a fixed event-bus port when clustering is turned on").isEqualTo(5710);
    assertThat(c.detector()).isEqualTo("tensorflow");
    assertThat(c.model().path()).hasToString("models/circles");
    assertThat(c.http().port()).isEqualTo(8080);
    assertThat(c.upload().maxBytes()).isEqualTo(20L * 1024 * 1024);
    assertThat(c.upload().maxPixels()).isEqualTo(40_000_000L);
    assertThat(c.kafka().topics().imagesSubmitted()).isEqualTo("aiq.images.submitted");
    assertThat(c.kafka().topics().deadLetter()).isEqualTo("aiq.dlq");
    assertThat(c.kafka().group("inference")).isEqualTo("aiq-inference");
    assertThat(c.database().poolSize()).isEqualTo(8);
  }

  @Test
  void environment_variables_override_nested_keys_by_section_and_dashed_name(Vertx vertx) throws Exception {
    AppConfig c = load(vertx, Map.of("AIQ_HTTP_PORT", "9999", "AIQ_UPLOAD_MAX_BYTES", "1234",
        "AIQ_KAFKA_BOOTSTRAP", "kafka:29092", "AIQ_ROLES", "inference", "AIQ_SWEEPER_ENABLED", "false",
        "PATH", "/usr/bin", "AIQ_DATABASE_URL", "postgresql://u:p@db:5433/x"), null);

    assertThat(c.http().port()).isEqualTo(9999);
    assertThat(c.upload().maxBytes()).isEqualTo(1234);
    assertThat(c.kafka().bootstrap()).isEqualTo("kafka:29092");
    assertThat(c.roles()).containsExactly(Role.INFERENCE);
    assertThat(c.sweeper().enabled()).isFalse();
    assertThat(c.database().url()).isEqualTo("postgresql://u:p@db:5433/x");
  }

  @Test
  void environment_variables_reach_sections_and_top_level_keys_whose_names_have_dashes(Vertx vertx) throws Exception {
    AppConfig c = load(vertx, Map.of("AIQ_RATE_LIMIT_REQUESTS_PER_SECOND", "0", "AIQ_RATE_LIMIT_BURST", "7",
        "AIQ_RATE_LIMIT_CLIENT_HEADER", "X-Forwarded-For", "AIQ_API_KEYS", "key-one-0123456789,key-two-0123456789",
        "AIQ_SHUTDOWN_TIMEOUT_MS", "1234", "AIQ_DUMMY_DELAY_MS", "5", "AIQ_INFERENCE_BATCH_WAIT_MS", "3",
        "AIQ_CLUSTER_KUBERNETES_SERVICE_DNS", "aiq-circles-cluster.ns.svc.cluster.local", "AIQ_INFERENCE_CONSUMERS", "3"),
        null);

    assertThat(c.rateLimit().requestsPerSecond()).isZero();
    assertThat(c.rateLimit().burst()).isEqualTo(7);
    assertThat(c.rateLimit().clientHeader()).isEqualTo("X-Forwarded-For");
    assertThat(c.apiKeys()).containsExactly("key-one-0123456789", "key-two-0123456789");
    assertThat(c.shutdownTimeoutMs()).isEqualTo(1234);
    assertThat(c.dummyDelayMs()).isEqualTo(5);
    assertThat(c.inference().batchWaitMs()).isEqualTo(3);
    assertThat(c.cluster().kubernetesServiceDns()).isEqualTo("aiq-circles-cluster.ns.svc.cluster.local");
    assertThat(c.inference().consumers()).isEqualTo(3);
  }

  @Test
  void inference_needs_at_least_one_consumer(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_INFERENCE_CONSUMERS", "0"), null))
        .hasMessageContaining("inference.consumers");
  }

  @Test
  void a_yaml_file_overrides_the_defaults_and_the_environment_overrides_the_file(Vertx vertx, @TempDir Path dir)
      throws Exception {
    Path file = dir.resolve("aiq.yaml");
    Files.writeString(file, "http:\n  port: 7000\n  host: 127.0.0.1\nkafka:\n  topic-prefix: staging.\n");

    AppConfig c = load(vertx, Map.of("AIQ_CONFIG_FILE", file.toString(), "AIQ_HTTP_PORT", "7001"), null);

    assertThat(c.http().port()).isEqualTo(7001);
    assertThat(c.http().host()).isEqualTo("127.0.0.1");
    assertThat(c.kafka().topics().imagesSubmitted()).isEqualTo("staging.aiq.images.submitted");
  }

  @Test
  void a_named_config_file_that_does_not_exist_stops_the_start(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_CONFIG_FILE", "/nonexistent/aiq.yaml"), null))
        .hasMessageContaining("aiq.yaml");
  }

  @Test
  void a_malformed_number_is_reported_with_its_key(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_HTTP_PORT", "eighty"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("http.port").hasMessageContaining("eighty");
  }

  @Test
  void an_unknown_role_is_refused_with_the_known_ones(Vertx vertx) {
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_ROLES", "gateway,frontend"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("frontend").hasMessageContaining("inference");
  }

  @Test
  void all_names_every_role() {
    assertThat(AppConfig.parseRoles("all"))
        .containsExactlyInAnyOrder(Role.GATEWAY, Role.INGEST, Role.QUERIES, Role.INFERENCE, Role.RESULTS,
            Role.WEBHOOKS);
    assertThat(AppConfig.parseRoles(" Gateway , results ")).containsExactlyInAnyOrder(Role.GATEWAY, Role.RESULTS);
  }

  @Test
  void the_api_process_inference_and_the_results_writer_each_load_without_a_cluster(Vertx vertx) throws Exception {
    assertThat(load(vertx, Map.of("AIQ_ROLES", "gateway,ingest,queries"), null).roles())
        .containsExactlyInAnyOrder(Role.GATEWAY, Role.INGEST, Role.QUERIES);
    assertThat(load(vertx, Map.of("AIQ_ROLES", "inference"), null).roles()).containsExactly(Role.INFERENCE);
    assertThat(load(vertx, Map.of("AIQ_ROLES", "results"), null).roles()).as("results alone is the writer")
        .containsExactly(Role.RESULTS);
  }

  @Test
  void a_gateway_without_ingest_or_queries_and_without_a_cluster_is_refused_at_start(Vertx vertx) throws Exception {
    // the old API layout "gateway,ingest,results": results no longer answers queries
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_ROLES", "gateway,ingest,results"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("queries").hasMessageContaining("cluster.enabled")
        .hasMessageNotContaining("ingest and");
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_ROLES", "gateway"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("ingest and queries");
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_ROLES", "gateway,queries"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("needs ingest");
    // clustered, the other roles may be in other processes
    assertThat(load(vertx, Map.of("AIQ_ROLES", "gateway", "AIQ_CLUSTER_ENABLED", "true"), null).roles())
        .containsExactly(Role.GATEWAY);
  }

  @Test
  void the_event_bus_port_is_a_setting_and_a_port_number(Vertx vertx) throws Exception {
    assertThat(load(vertx, Map.of("AIQ_CLUSTER_EVENT_BUS_PORT", "5801"), null).cluster().eventBusPort()).isEqualTo(5801);
    assertThatThrownBy(() -> load(vertx, Map.of("AIQ_CLUSTER_EVENT_BUS_PORT", "70000"), null))
        .isInstanceOf(ConfigException.class).hasMessageContaining("cluster.event-bus-port");
  }
}
