package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
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
    // many requests in a row: the per-client rate limit is not what these tests are about
    sys = new RunningApp(new TestEnv(), new JsonObject().put("rate-limit", new JsonObject().put("requests-per-second", 0)));
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
    // text is not an image in an accepted format: 415, as an upload of it is (it was 422 before the
    // endpoints shared the uploads' validator); an image whose data is corrupt is 422
    String text = Base64.getEncoder().encodeToString(TestImages.text());
    HttpResponse<Buffer> notAnImage = post("/v1/models/dummy:predict",
        Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"" + text + "\"}}]}"));
    assertThat(notAnImage.statusCode()).isEqualTo(415);
    assertThat(notAnImage.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("unsupported_media_type");
    String cut = Base64.getEncoder().encodeToString(TestImages.truncated(TestImages.coinPhoto(), 0.6));
    HttpResponse<Buffer> corrupt = post("/v1/models/dummy:predict",
        Buffer.buffer("{\"instances\": [{\"image\": {\"b64\": \"" + cut + "\"}}]}"));
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

  // ---- hostile and malformed requests (issue 12) ------------------------------------------------

  private static JsonObject v1(String... b64) {
    JsonArray instances = new JsonArray();
    for (String b : b64) {
      instances.add(new JsonObject().put("image", new JsonObject().put("b64", b)));
    }
    return new JsonObject().put("instances", instances);
  }

  private static JsonObject v2(String... b64) {
    JsonArray data = new JsonArray();
    for (String b : b64) {
      data.add(b);
    }
    return new JsonObject().put("inputs", new JsonArray().add(new JsonObject().put("name", "image")
        .put("datatype", "BYTES").put("shape", new JsonArray().add(b64.length)).put("data", data)));
  }

  /** A 4xx (or the given status) with the API's JSON error, and a message that is not an exception's text. */
  private static JsonObject assertClientError(HttpResponse<Buffer> r, int status, String code, String what) {
    assertThat(r.statusCode()).as(what + ": " + r.bodyAsString()).isEqualTo(status);
    assertThat(r.getHeader("Content-Type")).as(what).startsWith("application/json");
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).as(what).isEqualTo(code);
    assertThat(error.getString("message")).as(what).isNotBlank()
        .doesNotContain("Exception").doesNotContain("java.").doesNotContain("Cannot invoke")
        .doesNotContain("cannot be cast").doesNotContain("\tat ");
    return error;
  }

  @Test
  void malformed_bodies_on_v1_and_v2_are_400_with_a_json_error_and_no_exception_text() throws Exception {
    List<String> anywhere = List.of("null", "[]", "[1, 2]", "5", "\"text\"", "true", "{}", "{not json", "\u0000");
    List<String> v1Only = List.of("{\"instances\": [null]}", "{\"instances\": null}", "{\"instances\": \"x\"}",
        "{\"instances\": {}}", "{\"instances\": [[]]}", "{\"instances\": [{}]}", "{\"instances\": [{\"image\": \"x\"}]}",
        "{\"instances\": [{\"image\": null}]}", "{\"instances\": [{\"image\": {\"b64\": 5}}]}",
        "{\"instances\": [{\"image\": {\"b64\": null}}]}", "{\"instances\": [{\"image\": {\"b64\": [\"a\"]}}]}");
    List<String> v2Only = List.of("{\"inputs\": [null]}", "{\"inputs\": null}", "{\"inputs\": \"x\"}", "{\"inputs\": [5]}",
        "{\"inputs\": [[]]}", "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": [null]}]}",
        "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": [1]}]}", "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": [{}]}]}",
        "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": [[\"" + B64 + "\"]]}]}",
        "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": [true]}]}", "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": \"x\"}]}",
        "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": null}]}", "{\"inputs\": [{\"datatype\": \"BYTES\", \"data\": []}]}",
        "{\"inputs\": [{\"datatype\": 5, \"data\": [\"x\"]}]}", "{\"inputs\": [{\"data\": [\"x\"]}]}",
        "{\"id\": 5, \"inputs\": [{\"datatype\": \"BYTES\", \"data\": [\"" + B64 + "\"]}]}",
        "{\"id\": {}, \"inputs\": []}");
    for (String body : anywhere) {
      assertClientError(post("/v1/models/dummy:predict", Buffer.buffer(body)), 400, "bad_request", "v1 " + body);
      assertClientError(post("/v2/models/dummy/infer", Buffer.buffer(body)), 400, "bad_request", "v2 " + body);
    }
    for (String body : v1Only) {
      assertClientError(post("/v1/models/dummy:predict", Buffer.buffer(body)), 400, "bad_request", "v1 " + body);
    }
    for (String body : v2Only) {
      assertClientError(post("/v2/models/dummy/infer", Buffer.buffer(body)), 400, "bad_request", "v2 " + body);
    }
    // no body at all
    for (String path : List.of("/v1/models/dummy:predict", "/v2/models/dummy/infer")) {
      assertClientError(client.post(path).send().await(30, TimeUnit.SECONDS), 400, "bad_request", path + " without a body");
    }
    // the service is still serving
    assertThat(post("/v1/models/dummy:predict", v1(B64).toBuffer()).statusCode()).isEqualTo(200);
  }

  @Test
  void an_image_over_the_pixel_limit_is_413_image_too_large_exactly_as_an_upload() throws Exception {
    byte[] png = TestImages.pngDeclaring(6512, 6512); // 42.4 million pixels, upload.max-pixels is 40 million
    String b64 = Base64.getEncoder().encodeToString(png);
    HttpResponse<Buffer> upload = sys.api.upload(png, "big.png", "image/png");
    JsonObject asUpload = assertClientError(upload, 413, "image_too_large", "upload");

    JsonObject v1 = assertClientError(post("/v1/models/dummy:predict", v1(b64).toBuffer()), 413, "image_too_large", "v1");
    JsonObject v2 = assertClientError(post("/v2/models/dummy/infer", v2(b64).toBuffer()), 413, "image_too_large", "v2");

    assertThat(v1).isEqualTo(asUpload);
    assertThat(v2).isEqualTo(asUpload);
  }

  @Test
  void formats_and_files_uploads_refuse_are_refused_alike_with_the_same_code_and_message() throws Exception {
    byte[] gif = "GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    byte[] truncated = TestImages.truncated(TestImages.coinPhoto(), 0.6);
    for (byte[] file : List.of(gif, bmpEmbeddingAPngWithA2GibImageSize(), truncated, TestImages.pngWithBadCrc())) {
      JsonObject asUpload = sys.api.upload(file, "f", "image/jpeg").bodyAsJsonObject().getJsonObject("error");
      String code = asUpload.getString("code");
      assertThat(code).isIn("unsupported_media_type", "corrupt_image");
      int status = code.equals("corrupt_image") ? 422 : 415;
      String b64 = Base64.getEncoder().encodeToString(file);
      assertThat(assertClientError(post("/v1/models/dummy:predict", v1(b64).toBuffer()), status, code, "v1 " + code))
          .isEqualTo(asUpload);
      assertThat(assertClientError(post("/v2/models/dummy/infer", v2(b64).toBuffer()), status, code, "v2 " + code))
          .isEqualTo(asUpload);
    }
    // pixels that cannot be decoded behind an intact container: 422 from the decoder, no exception text
    String garbage = Base64.getEncoder().encodeToString(TestImages.pngWithGarbagePixels());
    assertClientError(post("/v1/models/dummy:predict", v1(garbage).toBuffer()), 422, "corrupt_image", "garbage pixels");
    // with several images, the message says which one
    JsonObject second = assertClientError(post("/v2/models/dummy/infer", v2(B64, Base64.getEncoder().encodeToString(gif))
        .toBuffer()), 415, "unsupported_media_type", "second image a GIF");
    assertThat(second.getString("message")).startsWith("image 1: ");
  }

  /** Issue 12's BMP: BI_PNG compression, a 2 GiB biSizeImage, a tiny PNG inside; 187 bytes. */
  private static byte[] bmpEmbeddingAPngWithA2GibImageSize() {
    byte[] png = TestImages.discs(1, 1, "png", 1);
    ByteBuffer b = ByteBuffer.allocate(Math.max(187, 54 + png.length)).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(b.capacity()).putInt(0).putInt(54);
    b.putInt(40).putInt(1).putInt(1).putShort((short) 1).putShort((short) 0).putInt(5).putInt(0x7FFF_FFFF)
        .putInt(2835).putInt(2835).putInt(0).putInt(0).put(png);
    return b.array();
  }

  @Test
  void more_images_than_a_request_may_carry_are_refused_with_413() throws Exception {
    String[] seventeen = new String[17];
    java.util.Arrays.fill(seventeen, B64);
    JsonObject v1 = assertClientError(post("/v1/models/dummy:predict", v1(seventeen).toBuffer()), 413, "payload_too_large", "v1");
    assertThat(v1.getString("message")).contains("17 images").contains("at most 16");
    assertClientError(post("/v2/models/dummy/infer", v2(seventeen).toBuffer()), 413, "payload_too_large", "v2");
    String[] sixteen = java.util.Arrays.copyOf(seventeen, 16);
    HttpResponse<Buffer> ok = post("/v2/models/dummy/infer", v2(sixteen).toBuffer());
    assertThat(ok.statusCode()).as(ok.bodyAsString()).isEqualTo(200);
    assertThat(ok.bodyAsJsonObject().getJsonArray("outputs")).hasSize(16 * 5);
    // two images under upload.max-pixels each, over it together: one upload's worth of pixels per request
    String quarter = Base64.getEncoder().encodeToString(TestImages.pngDeclaring(5000, 5000));
    JsonObject together = assertClientError(post("/v1/models/dummy:predict", v1(quarter, quarter).toBuffer()), 413,
        "image_too_large", "two 25-megapixel images");
    assertThat(together.getString("message")).contains("50000000 pixels in all");
  }

  @Test
  void requests_beyond_the_waiting_cap_get_503_with_retry_after_and_the_others_are_answered() throws Exception {
    JsonObject overrides = new JsonObject().put("dummy", new JsonObject().put("delay-ms", 800))
        .put("model-endpoints", new JsonObject().put("max-waiting-requests", 1));
    try (RunningApp slow = new RunningApp(new TestEnv(), overrides)) {
      WebClient c = WebClient.create(slow.vertx, new WebClientOptions().setDefaultHost("127.0.0.1")
          .setDefaultPort(slow.app.httpPort()), new io.vertx.core.http.PoolOptions().setHttp1MaxSize(16));
      try {
        List<Future<HttpResponse<Buffer>>> calls = new ArrayList<>();
        for (int i = 0; i < 6; i++) {
          String path = i % 2 == 0 ? "/v1/models/dummy:predict" : "/v2/models/dummy/infer";
          Buffer body = (i % 2 == 0 ? v1(B64) : v2(B64)).toBuffer();
          calls.add(c.post(path).putHeader("Content-Type", "application/json").sendBuffer(body));
        }
        int ok = 0;
        int unavailable = 0;
        for (Future<HttpResponse<Buffer>> call : calls) {
          HttpResponse<Buffer> r = call.await(30, TimeUnit.SECONDS);
          if (r.statusCode() == 200) {
            ok++;
          } else {
            assertClientError(r, 503, "unavailable", "beyond the cap");
            assertThat(r.getHeader("Retry-After")).isEqualTo("1");
            unavailable++;
          }
        }
        assertThat(ok).isGreaterThanOrEqualTo(1);
        assertThat(unavailable).isGreaterThanOrEqualTo(1);
        // every place was given back: one at a time, all are answered
        for (int i = 0; i < 2; i++) {
          HttpResponse<Buffer> r = c.post("/v1/models/dummy:predict").putHeader("Content-Type", "application/json")
              .sendBuffer(v1(B64).toBuffer()).await(30, TimeUnit.SECONDS);
          assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
        }
      } finally {
        c.close();
      }
    }
  }
}
