package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The bounds issue 12 added reach the pods as the chart renders them: the attempts per record of
 * both consumer roles, and the admission bounds and bytes in flight of the API.
 */
class PoisonAndAdmissionSettingsTest {


  @Test
  void by_default_every_consumer_role_gives_a_record_five_attempts_and_the_api_bounds_its_backlog() throws Exception {
    Rendered r = Rendered.with();
    for (String role : List.of("inference", "results")) {
      assertThat(Rendered.appConfig(r.settings(r.deployment(role))).kafka().maxRecordAttempts()).as(role).isEqualTo(5);
    }
    AppConfig api = Rendered.appConfig(r.settings(r.deployment("api")));
    assertThat(api.upload().maxQueuedJobs()).isEqualTo(5000);
    assertThat(api.upload().maxBacklogSeconds()).isEqualTo(45.0);
    assertThat(api.upload().maxBytesInFlight()).isEqualTo(256L << 20);
  }

  @Test
  void attempts_and_admission_bounds_set_in_values_reach_the_application() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("kafka.maxRecordAttempts", 9, "config.upload.max-queued-jobs", 100,
        "config.upload.max-backlog-seconds", 20));
    assertThat(Rendered.appConfig(r.settings(r.deployment("inference"))).kafka().maxRecordAttempts()).isEqualTo(9);
    AppConfig api = Rendered.appConfig(r.settings(r.deployment("api")));
    assertThat(api.upload().maxQueuedJobs()).isEqualTo(100);
    assertThat(api.upload().maxBacklogSeconds()).isEqualTo(20.0);
  }
}
