package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chart's {@code config.tracing} reaches every pod as the application reads its configuration: off
 * by default, the collector and the sample ratio set in values when given; the schema refuses a
 * ratio above 1.
 */
class TracingSettingsTest {

  @Test
  void by_default_no_pod_traces() throws Exception {
    for (AppConfig pod : configs(Rendered.with())) {
      assertThat(pod.tracing().enabled()).isFalse();
    }
  }

  @Test
  void a_collector_set_in_values_reaches_the_application_of_every_pod() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("config.tracing.otlp-endpoint", "http://otel-collector.observability:4318",
        // --set makes 0.1 a string; 0 (record only what callers sampled) is a number to it
        "config.tracing.sample-ratio", 0));
    for (AppConfig pod : configs(r)) {
      assertThat(pod.tracing()).isEqualTo(new AppConfig.Tracing("http://otel-collector.observability:4318", 0.0));
    }
  }

  @Test
  void the_schema_refuses_a_sample_ratio_above_one() {
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("config.tracing.sample-ratio", 2)))
        .hasMessageContaining("sample-ratio");
  }

  private static List<AppConfig> configs(Rendered r) throws Exception {
    List<AppConfig> out = new ArrayList<>();
    for (Deployment d : r.all(Deployment.class)) {
      out.add(Rendered.appConfig(r.settings(d)));
    }
    assertThat(out).as("Deployments").isNotEmpty();
    return out;
  }
}
