package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Errors the framework raises before any handler of ours runs (a path that does not decode, a
 * request without Host, a request line or headers too long, a multipart type without a boundary)
 * are JSON with a 4xx status like every other error, on the gateway and on the management server of
 * a process without the gateway role. The requests are written on a raw socket, as a hostile client
 * would, since an HTTP client library refuses to send most of them.
 */
class FrameworkErrorsTest {
  private static RunningApp api;
  private static RunningApp resultsOnly;

  @BeforeAll
  static void start() {
    api = RunningApp.start();
    TestEnv other = new TestEnv(api.env.databaseUrl());
    resultsOnly = new RunningApp(other, new JsonObject().put("roles", "results")
        .put("http", new JsonObject().put("idle-timeout-seconds", 1)));
  }

  @AfterAll
  static void stop() {
    resultsOnly.close();
    api.close();
  }

  record Answer(int status, String headers, String body) {
    JsonObject json() {
      return new JsonObject(body);
    }
  }

  /** Writes the request as given and reads the answer until the server closes or 2 s pass. */
  static Answer raw(int port, String request) throws IOException {
    try (Socket s = new Socket("127.0.0.1", port)) {
      s.setSoTimeout(2000);
      OutputStream out = s.getOutputStream();
      out.write(request.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
      InputStream in = s.getInputStream();
      ByteArrayOutputStream got = new ByteArrayOutputStream();
      byte[] buf = new byte[8192];
      try {
        for (int n; (n = in.read(buf)) > 0; ) {
          got.write(buf, 0, n);
          if (complete(got.toString(StandardCharsets.ISO_8859_1))) {
            break;
          }
        }
      } catch (SocketTimeoutException e) {
        // keep-alive: the answer is what arrived
      }
      String text = got.toString(StandardCharsets.ISO_8859_1);
      int split = text.indexOf("\r\n\r\n");
      assertThat(split).as("an HTTP answer: " + text).isPositive();
      String head = text.substring(0, split);
      return new Answer(Integer.parseInt(head.split(" ")[1]), head, text.substring(split + 4));
    }
  }

  private static boolean complete(String text) {
    int split = text.indexOf("\r\n\r\n");
    if (split < 0) {
      return false;
    }
    String head = text.substring(0, split).toLowerCase();
    int at = head.indexOf("content-length:");
    if (at < 0) {
      return false;
    }
    int len = Integer.parseInt(head.substring(at + 15).split("\r\n")[0].trim());
    return text.length() - split - 4 >= len;
  }

  private static void assertJsonError(Answer a, int status) {
    assertThat(a.status()).as(a.headers() + "\n" + a.body()).isEqualTo(status);
    assertThat(a.headers().toLowerCase()).contains("content-type: application/json");
    assertThat(a.json().getJsonObject("error").getString("code")).isNotBlank();
    assertThat(a.json().getJsonObject("error").getString("message")).isNotBlank()
        .doesNotContain("Exception").doesNotContain("\tat ");
  }

  @Test
  void a_path_with_a_bad_percent_escape_is_a_json_400() throws IOException {
    assertJsonError(raw(api.app.httpPort(), "GET /images/%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assertJsonError(raw(api.app.httpPort(), "GET /jobs/%E0%A4%A HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
  }

  @Test
  void an_http_1_1_request_without_host_is_a_json_400() throws IOException {
    Answer a = raw(api.app.httpPort(), "GET /images HTTP/1.1\r\n\r\n");
    assertJsonError(a, 400);
    assertThat(a.json().getJsonObject("error").getString("message")).contains("Host");
  }

  @Test
  void a_request_line_or_headers_too_long_are_json_errors() throws IOException {
    assertJsonError(raw(api.app.httpPort(), "GET /" + "a".repeat(10_000) + " HTTP/1.1\r\nHost: x\r\n\r\n"), 414);
    assertJsonError(raw(api.app.httpPort(), "GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + "b".repeat(20_000) + "\r\n\r\n"), 431);
  }

  @Test
  void garbage_instead_of_http_is_a_json_400() throws IOException {
    assertJsonError(raw(api.app.httpPort(), "\u0001\u0002 nonsense\r\n\r\n"), 400);
  }

  @Test
  void multipart_without_a_boundary_or_with_an_empty_one_is_a_json_400() throws IOException {
    for (String type : new String[] {"multipart/form-data", "multipart/form-data; boundary=",
        "multipart/form-data; boundary", "multipart/form-data; boundary=\"\""}) {
      Answer a = raw(api.app.httpPort(), "POST /images HTTP/1.1\r\nHost: x\r\nContent-Type: " + type
          + "\r\nContent-Length: 4\r\n\r\nabcd");
      assertJsonError(a, 400);
      assertThat(a.json().getJsonObject("error").getString("message")).as(type).contains("boundary");
    }
    assertThat(api.storedFiles()).isZero();
  }

  @Test
  void only_our_swagger_ui_page_and_the_files_it_loads_are_served_under_docs() {
    assertThat(api.api.get("/docs/").statusCode()).isEqualTo(200);
    assertThat(api.api.get("/docs/ui/swagger-ui-bundle.js").statusCode()).isEqualTo(200);
    assertThat(api.api.get("/docs/ui/swagger-ui.css").statusCode()).isEqualTo(200);
    for (String stock : new String[] {"/docs/ui/index.html", "/docs/ui/oauth2-redirect.html", "/docs/ui/",
        "/docs/ui/swagger-initializer.js"}) {
      var r = api.api.get(stock);
      assertThat(r.statusCode()).as(stock).isEqualTo(404);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("not_found");
    }
  }

  @Test
  void the_management_server_of_a_process_without_the_gateway_answers_json_errors() throws IOException {
    int port = resultsOnly.app.httpPort();
    assertThat(resultsOnly.api.get("/health/live").statusCode()).isEqualTo(200);
    assertJsonError(raw(port, "GET /nothing-here HTTP/1.1\r\nHost: x\r\n\r\n"), 404);
    assertJsonError(raw(port, "GET /health/%zz HTTP/1.1\r\nHost: x\r\n\r\n"), 400);
    assertJsonError(raw(port, "POST /health/live HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n"), 405);
  }

  @Test
  void the_management_server_closes_idle_connections() throws Exception {
    try (Socket s = new Socket("127.0.0.1", resultsOnly.app.httpPort())) {
      s.setSoTimeout(5000);
      long start = System.nanoTime();
      int read = s.getInputStream().read();
      long waited = (System.nanoTime() - start) / 1_000_000;
      assertThat(read).as("closed by the server").isEqualTo(-1);
      assertThat(waited).as("ms until the idle connection was closed").isLessThan(4000);
    }
  }
}
