package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Bad input gets a clear JSON error with the documented status, and nothing is stored: no image row,
 * no job, no blob, no temporary file. The upload limit is lowered to 1 MiB here so the oversize cases
 * stay quick; the default is 20 MiB.
 */
class UploadRejectionTest {
  private static final int LIMIT = 1024 * 1024;
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new io.aiq.circles.testing.TestEnv(),
        new JsonObject().put("upload", new JsonObject().put("max-bytes", LIMIT).put("max-pixels", 40_000_000)));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @AfterEach
  void nothing_was_stored_and_the_service_is_still_healthy() {
    assertThat(sys.count("SELECT count(*) FROM images")).isZero();
    assertThat(sys.count("SELECT count(*) FROM jobs")).isZero();
    assertThat(sys.storedFiles()).isZero();
    assertThat(sys.api.get("/health/ready").statusCode()).isEqualTo(200);
  }

  private static void assertError(HttpResponse<Buffer> r, int status, String code) {
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(status);
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    JsonObject error = r.bodyAsJsonObject().getJsonObject("error");
    assertThat(error.getString("code")).isEqualTo(code);
    assertThat(error.getString("message")).isNotBlank();
  }

  @Test
  void a_script_sent_as_image_jpeg_is_refused_with_415() {
    assertError(sys.api.upload(TestImages.text(), "evil.jpg", "image/jpeg"), 415, "unsupported_media_type");
  }

  @Test
  void a_raw_body_that_is_not_an_image_is_refused_with_415() {
    assertError(sys.api.uploadRaw(TestImages.text(), "image/png"), 415, "unsupported_media_type");
  }

  @Test
  void a_gif_is_not_an_accepted_format() {
    byte[] gif = "GIF89a\u0001\u0000\u0001\u0000\u0000\u0000\u0000;".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
    assertError(sys.api.upload(gif, "a.gif", "image/gif"), 415, "unsupported_media_type");
  }

  @Test
  void a_body_of_another_content_type_is_refused_with_415() {
    assertError(sys.api.uploadRaw("{\"image\": 1}".getBytes(), "application/json"), 415, "unsupported_media_type");
    assertError(sys.api.uploadRaw(TestImages.coinPhoto(), null), 415, "unsupported_media_type");
  }

  @Test
  void a_truncated_jpeg_is_refused_with_422() {
    assertError(sys.api.upload(TestImages.truncated(TestImages.coinPhoto(), 0.6), "cut.jpg", "image/jpeg"),
        422, "corrupt_image");
  }

  @Test
  void a_truncated_png_is_refused_with_422() {
    assertError(sys.api.upload(TestImages.truncated(TestImages.discs(200, 200, "png", 1), 0.7), "cut.png",
        "image/png"), 422, "corrupt_image");
  }

  @Test
  void a_png_with_a_corrupt_chunk_is_refused_with_422() {
    assertError(sys.api.upload(TestImages.pngWithBadCrc(), "crc.png", "image/png"), 422, "corrupt_image");
  }

  @Test
  void a_jpeg_cut_inside_its_header_is_refused_with_422() {
    assertError(sys.api.upload(TestImages.truncated(TestImages.coinPhoto(), 0.01), "head.jpg", "image/jpeg"),
        422, "corrupt_image");
  }

  @Test
  void an_image_declaring_more_pixels_than_allowed_is_refused_with_413_before_decoding() {
    HttpResponse<Buffer> r = sys.api.upload(TestImages.pngDeclaring(100_000, 100_000), "bomb.png", "image/png");
    assertError(r, 413, "image_too_large");
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("100000x100000");
  }

  @Test
  void an_upload_over_the_byte_limit_is_refused_with_413() {
    assertError(sys.api.uploadRaw(new byte[LIMIT + 1], "image/jpeg"), 413, "payload_too_large");
  }

  @Test
  void an_oversized_multipart_upload_is_refused_with_413() {
    byte[] big = new byte[LIMIT + 200_000];
    big[0] = (byte) 0xFF;
    big[1] = (byte) 0xD8;
    big[2] = (byte) 0xFF;
    assertError(sys.api.upload(big, "big.jpg", "image/jpeg"), 413, "payload_too_large");
  }

  @Test
  void a_chunked_upload_without_content_length_is_cut_off_at_the_limit_with_413() throws Exception {
    // no Content-Length: the limit can only be enforced while the body streams in
    java.net.http.HttpClient client = java.net.http.HttpClient.newHttpClient();
    java.net.http.HttpResponse<String> response = client.send(java.net.http.HttpRequest.newBuilder(
                java.net.URI.create("http://127.0.0.1:" + sys.app.httpPort() + "/images"))
            .header("Content-Type", "image/jpeg")
            .POST(java.net.http.HttpRequest.BodyPublishers.ofInputStream(
                () -> new java.io.ByteArrayInputStream(new byte[3 * LIMIT])))
            .timeout(java.time.Duration.ofSeconds(30)).build(),
        java.net.http.HttpResponse.BodyHandlers.ofString());

    assertThat(response.statusCode()).isEqualTo(413);
    assertThat(new JsonObject(response.body()).getJsonObject("error").getString("code")).isEqualTo("payload_too_large");
  }

  @Test
  void a_form_without_a_file_field_is_refused_with_400() {
    assertError(sys.api.uploadForm(MultipartForm.create().attribute("name", "coins")), 400, "missing_file");
    assertError(sys.api.uploadForm(MultipartForm.create()
        .binaryFileUpload("image", "c.jpg", Buffer.buffer(TestImages.coinPhoto()), "image/jpeg")), 400, "missing_file");
  }

  @Test
  void a_form_with_more_file_fields_than_a_batch_may_carry_is_refused_with_413() {
    // two file fields are a batch now (BatchUploadTest); past upload.max-files-per-request (16) nothing is taken
    MultipartForm form = MultipartForm.create();
    for (int i = 0; i < 17; i++) {
      form.binaryFileUpload("file", i + ".png", Buffer.buffer(TestImages.discs(20 + i, 20, "png", i)), "image/png");
    }
    assertError(sys.api.uploadForm(form), 413, "too_many_files");
  }

  @Test
  void a_part_header_longer_than_16_kib_is_refused_with_400() {
    // 40 KiB of file name arrives over several TCP segments whatever the network does
    MultipartForm form = MultipartForm.create().binaryFileUpload("file", "a".repeat(40_000) + ".jpg",
        Buffer.buffer(TestImages.coinPhoto()), "image/jpeg");

    HttpResponse<Buffer> r = sys.api.uploadForm(form);

    assertError(r, 400, "bad_request");
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("longer than 16384 bytes");
  }

  @Test
  void a_form_with_hundreds_of_fields_is_refused_with_400() {
    MultipartForm form = MultipartForm.create();
    for (int i = 0; i < 300; i++) {
      form.attribute("f" + i, "x");
    }
    form.binaryFileUpload("file", "c.jpg", Buffer.buffer(TestImages.coinPhoto()), "image/jpeg");

    HttpResponse<Buffer> r = sys.api.uploadForm(form);

    assertError(r, 400, "bad_request");
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("more than 16 fields");
  }

  @Test
  void an_empty_body_is_refused_with_400() {
    assertError(sys.api.uploadRaw(new byte[0], "image/jpeg"), 400, "missing_file");
  }

  @Test
  void unknown_jobs_and_images_answer_404() {
    assertError(sys.api.get("/jobs/" + UUID.randomUUID()), 404, "not_found");
    assertError(sys.api.get("/images/" + "ab".repeat(32)), 404, "not_found");
    assertError(sys.api.get("/images/" + "ab".repeat(32) + "/objects"), 404, "not_found");
    assertError(sys.api.get("/images/" + "ab".repeat(32) + "/objects/0"), 404, "not_found");
  }

  @Test
  void ids_that_are_not_ids_answer_400() {
    assertError(sys.api.get("/jobs/not-a-job"), 400, "invalid_id");
    assertError(sys.api.get("/jobs/1%27%20OR%20%271%27=%271"), 400, "invalid_id");
    assertError(sys.api.get("/images/..%2F..%2Fetc%2Fpasswd"), 400, "invalid_id");
    assertError(sys.api.get("/images/%27%3B%20DROP%20TABLE%20images%3B--"), 400, "invalid_id");
    assertError(sys.api.get("/images/" + "AB".repeat(32)), 400, "invalid_id");
    assertError(sys.api.get("/images/" + "ab".repeat(32) + "/objects/-1"), 400, "invalid_id");
    assertError(sys.api.get("/images/" + "ab".repeat(32) + "/objects/x"), 400, "invalid_id");
  }

  @Test
  void malformed_list_parameters_answer_400() {
    assertError(sys.api.get("/images?limit=0"), 400, "bad_request");
    assertError(sys.api.get("/images?limit=abc"), 400, "bad_request");
    assertError(sys.api.get("/images?limit=101"), 400, "bad_request");
    assertError(sys.api.get("/images?cursor=bm90LWEtY3Vyc29y"), 400, "bad_request");
  }

  @Test
  void unknown_routes_and_methods_answer_json_errors() {
    assertError(sys.api.get("/nothing/here"), 404, "not_found");
    assertError(sys.api.request(HttpMethod.DELETE, "/images"), 405, "method_not_allowed");
  }
}
