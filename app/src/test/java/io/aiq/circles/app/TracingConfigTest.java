package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import io.aiq.circles.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** {@code tracing.*}: off by default, on with an OTLP endpoint (from the environment too), a bounded ratio. */
class TracingConfigTest {
  static Vertx vertx;

  @BeforeAll
  static void start() {
    vertx = Vertx.vertx();
  }

  @AfterAll
  static void stop() {
    vertx.close();
  }

  static AppConfig load(Map<String, String> env) throws Exception {
    return ConfigLoader.load(vertx, env, new JsonObject()).await(10, TimeUnit.SECONDS);
  }

  @Test
  void tracing_is_off_by_default_and_makes_no_sdk() throws Exception {
    AppConfig config = load(Map.of());
    assertThat(config.tracing().enabled()).isFalse();
    try (Tracing tracing = Tracing.fromConfig(config)) {
      assertThat(tracing.enabled()).isFalse();
      assertThat(tracing.openTelemetry()).isNull();
      assertThat(tracing.toString()).startsWith("off");
    }
  }

  @Test
  void an_otlp_endpoint_from_the_environment_turns_tracing_on_and_says_where_spans_go() throws Exception {
    AppConfig config = load(Map.of("AIQ_TRACING_OTLP_ENDPOINT", "http://collector:4318", "AIQ_TRACING_SAMPLE_RATIO", "0.25"));
    assertThat(config.tracing()).isEqualTo(new AppConfig.Tracing("http://collector:4318", 0.25));
    try (Tracing tracing = Tracing.fromConfig(config)) {
      assertThat(tracing.enabled()).isTrue();
      assertThat(tracing.toString()).contains("http://collector:4318/v1/traces").contains("0.25");
    }
  }

  @Test
  void the_traces_path_is_added_to_a_collectors_base_url_only_once() {
    assertThat(Tracing.tracesEndpoint("http://localhost:4318")).isEqualTo("http://localhost:4318/v1/traces");
    assertThat(Tracing.tracesEndpoint("http://localhost:4318/")).isEqualTo("http://localhost:4318/v1/traces");
    assertThat(Tracing.tracesEndpoint("https://otlp.example/v1/traces")).isEqualTo("https://otlp.example/v1/traces");
  }

  @Test
  void a_sample_ratio_outside_zero_to_one_is_refused() {
    assertThatThrownBy(() -> load(Map.of("AIQ_TRACING_OTLP_ENDPOINT", "http://c:4318", "AIQ_TRACING_SAMPLE_RATIO", "1.5"))
        .tracing()).isInstanceOf(ConfigException.class).hasMessageContaining("tracing.sample-ratio");
  }
}
