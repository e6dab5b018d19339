package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import io.aiq.circles.gateway.ClientGuards;
import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With {@code api-keys} set, uploads and the model endpoints need a key: none or an unknown one is
 * 401 and stores nothing, a key limited to the other scope is 403; reads, health and metrics stay
 * open.
 */
class ApiKeyTest {
  private static final String UPLOAD_KEY = "upload-only-key-0123456789";
  private static final String FULL_KEY = "full-access-key-9876543210";
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject().put("api-keys", UPLOAD_KEY + ":upload, " + FULL_KEY));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void an_upload_without_a_key_is_401_with_a_bearer_challenge_and_stores_nothing() {
    long images = sys.count("SELECT count(*) FROM images");
    long files = sys.storedFiles();

    HttpResponse<Buffer> r = sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg");

    assertError(r, 401, "unauthorized");
    assertThat(r.getHeader("WWW-Authenticate")).startsWith("Bearer");
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images);
    assertThat(sys.storedFiles()).isEqualTo(files);
  }

  @Test
  void an_upload_with_an_unknown_key_is_401() {
    assertError(upload("Authorization", "Bearer not-a-key-of-this-service"), 401, "unauthorized");
    assertError(upload("X-API-Key", UPLOAD_KEY + "x"), 401, "unauthorized");
  }

  @Test
  void an_upload_with_a_key_as_bearer_or_header_is_accepted() {
    assertThat(upload("Authorization", "Bearer " + UPLOAD_KEY).statusCode()).isEqualTo(202);
    HttpResponse<Buffer> second = sys.api.send(sys.api.web().post("/images").putHeader("X-API-Key", FULL_KEY)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "d.png",
            Buffer.buffer(TestImages.discs(100, 80, "png", 3)), "image/png")));
    assertThat(second.statusCode()).isEqualTo(202);
  }

  @Test
  void the_model_endpoints_refuse_a_key_limited_to_uploads_with_403_and_serve_a_full_key() {
    JsonObject predict = new JsonObject().put("instances", new JsonArray().add(new JsonObject()
        .put("image", new JsonObject().put("b64", Base64.getEncoder().encodeToString(TestImages.coinPhoto())))));
    String path = "/v1/models/" + new DummyDetector().modelName() + ":predict";

    HttpResponse<Buffer> none = sys.api.send(sys.api.web().post(path).sendJsonObject(predict));
    HttpResponse<Buffer> uploadOnly = sys.api.send(sys.api.web().post(path).bearerTokenAuthentication(UPLOAD_KEY)
        .sendJsonObject(predict));
    HttpResponse<Buffer> full = sys.api.send(sys.api.web().post(path).bearerTokenAuthentication(FULL_KEY)
        .sendJsonObject(predict));

    assertError(none, 401, "unauthorized");
    assertError(uploadOnly, 403, "forbidden");
    assertThat(full.statusCode()).as(full.bodyAsString()).isEqualTo(200);
    assertThat(full.bodyAsJsonObject().getJsonArray("predictions")).isNotEmpty();
  }

  @Test
  void reads_health_and_metrics_need_no_key() {
    assertThat(sys.api.get("/images").statusCode()).isEqualTo(200);
    assertThat(sys.api.get("/health/ready").statusCode()).isEqualTo(200);
    assertThat(sys.api.get("/metrics").statusCode()).isEqualTo(200);
    assertThat(sys.api.get("/v2/health/ready").statusCode()).isEqualTo(200);
  }

  @Test
  void short_keys_and_unknown_scopes_are_configuration_errors() {
    AppConfig.RateLimit off = new AppConfig.RateLimit(0, 1, "");
    assertThatThrownBy(() -> new ClientGuards(List.of("short"), off)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("16 characters");
    assertThatThrownBy(() -> new ClientGuards(List.of(FULL_KEY + ":admin"), off)).isInstanceOf(ConfigException.class)
        .hasMessageContaining("unknown scope 'admin'");
  }

  private static HttpResponse<Buffer> upload(String header, String value) {
    return sys.api.send(sys.api.web().post("/images").putHeader(header, value)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.jpg",
            Buffer.buffer(TestImages.otherCoinPhoto()), "image/jpeg")));
  }

  static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
  }
}
