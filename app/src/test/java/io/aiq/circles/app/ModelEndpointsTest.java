package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.util.Base64;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The inference role's KServe endpoints answer as the template's model server and the Open Inference Protocol do. */
class ModelEndpointsTest {
  private static RunningApp sys;
  private static WebClient client;
  private static final String B64 = Base64.getEncoder().encodeToString(TestImages.coinPhoto());

  @BeforeAll
  static void start() {
    sys = RunningApp.start();
    client = WebClient.create(sys.vertx, new WebClientOptions().setDefaultHost("127.0.0.1").setDefaultPort(sys.app.httpPort()));
  }

  @AfterAll
  static void stop() {
    client.close();
    sys.close();
  }

  private static HttpResponse<Buffer> post(String path, Buffer body) throws Exception {
    return client.post(path).putHeader("Content-Type", "application/json").sendBuffer(body).await(30, TimeUnit.SECONDS);
  }

  @Test
  void v1_predict_answers_the_template_model_servers_predictions() throws Exception {
    HttpResponse<Buffer> r = post("/v1/models/dummy:predict",
        new JsonObject().put("instances", new JsonArray().add(new JsonObject().put("image", new JsonObject().put("b64", B64))))
            .toBuffer());

    assertThat(r.statusCode()).isEqualTo(200);
    JsonArray predictions = r.bodyAsJsonObject().getJsonArray("predictions");
    assertThat(predictions).hasSize(3);
    JsonObject p = predictions.getJsonObject(0);
    assertThat(p.getJsonObject("bounding_box").fieldNames()).containsExactlyInAnyOrder("x_min", "y_min", "x_max", "y_max");
    assertThat(p.getString("label")).isEqualTo("coin");
    assertThat(p.getDouble("radius")).isPositive();
    assertThat(p.getJsonObject("centroid").getDouble("x"))
        .isEqualTo((p.getJsonObject("bounding_box").getDouble("x_min") + p.getJsonObject("bounding_box").getDouble("x_max")) / 2);
    assertThat(p.getDouble("score")).isBetween(0.0, 1.0);
  }

  @Test
  void v2_serves_health_metadata_and_inference() throws Exception {
    assertThat(sys.api.get("/v2/health/ready").statusCode()).isEqualTo(200);
    assertThat(sys.api.get("/v2/models/dummy/ready").statusCode()).isEqualTo(200);
    JsonObject meta = sys.api.get("/v2/models/dummy").bodyAsJsonObject();
    assertThat(meta.getString("name")).isEqualTo("dummy");
    assertThat(meta.getJsonArray("inputs").getJsonObject(0).getString("datatype")).isEqualTo("BYTES");

    HttpResponse<Buffer> r = post("/v2/models/dummy/infer", new JsonObject().put("id", "r1").put("inputs", new JsonArray()
        .add(new JsonObject().put("name", "image").put("datatype", "BYTES").put("shape", new JsonArray().add(1))
            .put("data", new JsonArray().add(B64)))).toBuffer());

    assertThat(r.statusCode()).isEqualTo(200);
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.getString("id")).isEqualTo("r1");
    assertThat(body.getString("model_name")).isEqualTo("dummy");
    JsonObject boxes = body.getJsonArray("outputs").getJsonObject(0);
    assertThat(boxes.getString("name")).isEqualTo("boxes");
    assertThat(boxes.getJsonArray("shape").getList()).containsExactly(3, 4);
    assertThat(boxes.getJsonArray("data")).hasSize(12);
    assertThat(body.getJsonArray("outputs").getJsonObject(4).getJsonArray("data").getInteger(0)).isEqualTo(3);
  }

  @Test
  void bad_requests_get_clear_errors() throws Exception {
    assertThat(post("/v1/models/dummy:predict", Buffer.buffer("{not json")).statusCode()).isEqualTo(400);
    assertThat(post("/v1/models/dummy:predict", Buffer.buffer("{\"instances\": []}")).statusCode()).isEqualTo(400);
    assertThat(post("/v1/models/other:predict", Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"" + B64 + "\"}}]}"))
        .statusCode()).isEqualTo(404);
    assertThat(post("/v1/models/dummy:predict", Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"%%%\"}}]}"))
        .statusCode()).isEqualTo(400);
    String text = Base64.getEncoder().encodeToString(TestImages.text());
    HttpResponse<Buffer> corrupt = post("/v1/models/dummy:predict",
        Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"" + text + "\"}}]}"));
    assertThat(corrupt.statusCode()).isEqualTo(422);
    assertThat(corrupt.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("corrupt_image");
    assertThat(post("/v2/models/dummy/infer", Buffer.buffer("{\"inputs\": [{\"datatype\": \"FP32\", \"data\": [1]}]}"))
        .statusCode()).isEqualTo(400);
    assertThat(sys.api.get("/v2/models/other").statusCode()).isEqualTo(404);
    Buffer huge = Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"");
    huge.appendBuffer(Buffer.buffer(new byte[29 * 1024 * 1024]));
    HttpResponse<Buffer> tooLarge = post("/v1/models/dummy:predict", huge);
    assertThat(tooLarge.statusCode()).isEqualTo(413);
    assertThat(tooLarge.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("payload_too_large");
  }
}
