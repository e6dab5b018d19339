package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The chart's {@code config.retention} reaches every pod that runs the ingest role (which sweeps), as
 * the application reads its configuration: off by default, the days, batch and interval set in
 * values when given; the schema refuses negative days.
 */
class RetentionSettingsTest {

  @Test
  void by_default_retention_is_off_in_the_ingest_pods() throws Exception {
    for (AppConfig ingest : ingestConfigs(Rendered.with())) {
      assertThat(ingest.retention().enabled()).isFalse();
      assertThat(ingest.retention().batchSize()).isEqualTo(100);
    }
  }

  @Test
  void retention_set_in_values_reaches_the_application_of_the_ingest_pods() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("config.retention.days", 30, "config.retention.batch-size", 25,
        "config.retention.interval-ms", 120000));
    for (AppConfig ingest : ingestConfigs(r)) {
      assertThat(ingest.retention().days()).isEqualTo(30);
      assertThat(ingest.retention().batchSize()).isEqualTo(25);
      assertThat(ingest.retention().intervalMs()).isEqualTo(120000);
    }
  }

  /** The configuration of each Deployment whose process runs the ingest role; fails when there is none. */
  private static List<AppConfig> ingestConfigs(Rendered r) throws Exception {
    List<AppConfig> out = new ArrayList<>();
    for (Deployment d : r.all(Deployment.class)) {
      AppConfig config = Rendered.appConfig(r.settings(d));
      if (config.roles().contains(Role.INGEST)) {
        out.add(config);
      }
    }
    assertThat(out).as("Deployments running the ingest role").isNotEmpty();
    return out;
  }

  @Test
  void the_schema_refuses_negative_days() {
    assertThatThrownBy(() -> Rendered.with(List.of(), Map.of("config.retention.days", -1)))
        .hasMessageContaining("days");
  }
}
