package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * X-Forwarded-For is believed only from {@code rate-limit.trusted-proxies}: a client that forges it
 * keeps its own budget. The trusted proxy is a client on 127.0.0.1; the untrusted caller connects from
 * 127.0.0.2 (another loopback address of this machine) to the same server.
 */
class ForwardedForTest {
  private static RunningApp sys;
  private static WebClient fromProxy;
  private static WebClient fromElsewhere;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("rate-limit", new JsonObject().put("requests-per-second", 0.1).put("burst", 3)
            .put("client-header", "X-Forwarded-For").put("trusted-proxies", "127.0.0.1/32, ::1")));
    fromProxy = WebClient.create(sys.vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(sys.app.httpPort()).setLocalAddress("127.0.0.1"));
    fromElsewhere = WebClient.create(sys.vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
        .setDefaultPort(sys.app.httpPort()).setLocalAddress("127.0.0.2"));
  }

  @AfterAll
  static void stop() {
    fromProxy.close();
    fromElsewhere.close();
    sys.close();
  }

  private static HttpResponse<Buffer> get(WebClient client, String forwardedFor) {
    return sys.api.send(client.get("/images").putHeader("X-Forwarded-For", forwardedFor).send());
  }

  @Test
  void a_caller_that_is_not_a_trusted_proxy_cannot_take_a_new_identity_with_the_header() {
    for (int i = 0; i < 3; i++) {
      assertThat(get(fromElsewhere, "203.0.113." + i).statusCode()).isEqualTo(200);
    }

    assertThat(get(fromElsewhere, "203.0.113.99").statusCode()).as("a fourth forged address, same caller")
        .isEqualTo(429);
  }

  @Test
  void behind_a_trusted_proxy_the_address_it_appended_is_the_client_whatever_the_client_wrote_before_it() {
    for (int i = 0; i < 3; i++) {
      assertThat(get(fromProxy, "198.51.100." + i + ", 192.0.2.10").statusCode()).isEqualTo(200);
    }

    assertThat(get(fromProxy, "198.51.100.99, 192.0.2.10").statusCode()).as("a forged left part changes nothing")
        .isEqualTo(429);
    assertThat(get(fromProxy, "192.0.2.10, 192.0.2.11").statusCode()).as("another client behind the proxy")
        .isEqualTo(200);
  }
}
