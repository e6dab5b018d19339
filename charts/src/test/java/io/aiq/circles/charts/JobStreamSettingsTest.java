package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The job event streams' settings (jobs.*) reach the API pods as rendered. */
class JobStreamSettingsTest {

  @Test
  void the_defaults_allow_1000_event_streams_with_a_15_second_heartbeat() throws Exception {
    Rendered r = Rendered.with();
    AppConfig config = Rendered.appConfig(r.settings(r.deployment("api")));

    assertThat(config.jobs().maxEventStreams()).isEqualTo(1000);
    assertThat(config.jobs().eventHeartbeatSeconds()).isEqualTo(15);
  }

  @Test
  void event_stream_settings_set_in_values_reach_the_application() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("config.jobs.max-event-streams", 40,
        "config.jobs.event-heartbeat-seconds", 5));
    AppConfig config = Rendered.appConfig(r.settings(r.deployment("api")));

    assertThat(config.jobs().maxEventStreams()).isEqualTo(40);
    assertThat(config.jobs().eventHeartbeatSeconds()).isEqualTo(5);
  }
}
