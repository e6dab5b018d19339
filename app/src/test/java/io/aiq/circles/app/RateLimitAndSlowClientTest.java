package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client over its request rate gets 429 with Retry-After while other clients go on; health and
 * metrics are never limited; an upload that trickles in slower than the upload timeout (slow loris)
 * gets 408 and stores nothing.
 */
class RateLimitAndSlowClientTest {
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("rate-limit", new JsonObject().put("requests-per-second", 0.5).put("burst", 3)
            .put("client-header", "X-Forwarded-For").put("trusted-proxies", "127.0.0.1"))
        .put("upload", new JsonObject().put("timeout-ms", 1000)));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void a_client_over_its_rate_gets_429_with_retry_after_and_other_clients_go_on() {
    for (int i = 0; i < 3; i++) {
      assertThat(get("/images", "10.0.0.1").statusCode()).isEqualTo(200);
    }

    HttpResponse<Buffer> limited = get("/images", "10.0.0.1");

    assertError(limited, 429, "rate_limited");
    assertThat(Integer.parseInt(limited.getHeader("Retry-After"))).isBetween(1, 2);
    assertThat(get("/jobs/00000000-0000-0000-0000-000000000000", "10.0.0.1").statusCode()).isEqualTo(429);
    // the client is the right-most address the trusted proxy (this test, on 127.0.0.1) forwarded
    assertThat(get("/images", "10.0.0.1, 10.0.0.2").statusCode()).as("another client").isEqualTo(200);
  }

  @Test
  void health_and_metrics_are_never_limited() {
    for (int i = 0; i < 10; i++) {
      assertThat(get("/health/live", "10.0.0.3").statusCode()).isEqualTo(200);
      assertThat(get("/metrics", "10.0.0.3").statusCode()).isEqualTo(200);
    }
    assertThat(get("/images", "10.0.0.3").statusCode()).as("the budget is untouched").isEqualTo(200);
  }

  @Test
  void an_upload_trickling_in_slower_than_the_timeout_gets_408_and_stores_nothing() throws Exception {
    String answer;
    try (Socket socket = new Socket("127.0.0.1", sys.app.httpPort())) {
      socket.setSoTimeout(15_000);
      OutputStream out = socket.getOutputStream();
      out.write(("POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/jpeg\r\nContent-Length: 50000\r\n"
          + "X-Forwarded-For: 10.0.0.4\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
      out.write(new byte[] {(byte) 0xFF, (byte) 0xD8, (byte) 0xFF});
      out.flush();
      answer = readAnswer(socket.getInputStream());
    }

    assertThat(answer).startsWith("HTTP/1.1 408");
    assertThat(answer).contains("\"request_timeout\"");
    assertThat(sys.count("SELECT count(*) FROM images")).isZero();
    assertThat(sys.storedFiles()).isZero();
    assertThat(sys.api.get("/health/ready").statusCode()).isEqualTo(200);
  }

  private static HttpResponse<Buffer> get(String path, String client) {
    return sys.api.send(sys.api.web().get(path).putHeader("X-Forwarded-For", client).send());
  }

  /** The status line, headers and body, read until the server closes or the JSON body is complete. */
  private static String readAnswer(InputStream in) throws Exception {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    byte[] buf = new byte[4096];
    int n;
    while ((n = in.read(buf)) > 0) {
      bytes.write(buf, 0, n);
      String s = bytes.toString(StandardCharsets.UTF_8);
      if (s.contains("\r\n\r\n") && s.trim().endsWith("}")) {
        break;
      }
    }
    return bytes.toString(StandardCharsets.UTF_8);
  }
}
