package io.aiq.circles.charts;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rate limit's client header is believed only from trusted proxies: every shipped values file that
 * names a header names the proxies too (else the header would have no effect), and the keys reach the
 * application.
 */
class RateLimitSettingsTest {


  @Test
  void a_values_file_that_names_a_client_header_names_the_proxies_it_is_believed_from() throws Exception {
    for (String file : List.of("values-stage.yaml", "values-prod.yaml", "ci/all-on-values.yaml")) {
      Rendered r = Rendered.with(file);
      AppConfig config = Rendered.appConfig(r.settings(r.deployment("api")));

      assertThat(config.rateLimit().clientHeader()).as(file).isNotEmpty();
      assertThat(config.rateLimit().trustedProxies()).as(file).isNotEmpty();
    }
  }

  @Test
  void the_defaults_trust_no_proxy_and_hold_up_to_2000_waiters() throws Exception {
    Rendered r = Rendered.with();
    AppConfig config = Rendered.appConfig(r.settings(r.deployment("api")));

    assertThat(config.rateLimit().trustedProxies()).isEmpty();
    assertThat(config.http().maxWaiters()).isEqualTo(2000);
  }

  @Test
  void trusted_proxies_and_max_waiters_set_in_values_reach_the_application() throws Exception {
    Rendered r = Rendered.with(List.of(), Map.of("config.rate-limit.trusted-proxies", "10.1.0.0/16,fd00::/8",
        "config.http.max-waiters", 50));
    AppConfig config = Rendered.appConfig(r.settings(r.deployment("api")));

    assertThat(config.rateLimit().trustedProxies()).containsExactly("10.1.0.0/16", "fd00::/8");
    assertThat(config.http().maxWaiters()).isEqualTo(50);
  }
}
