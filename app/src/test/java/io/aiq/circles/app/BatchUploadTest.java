package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Several {@code file} parts in one {@code POST /images} get one answer listing, in the order of the
 * parts, each file's job or its own error: one bad file does not refuse the others, and nothing is
 * stored for it. One file part is answered as it always was. At most
 * {@code upload.max-files-per-request} files (4 here): beyond, the whole request is refused before
 * anything is stored.
 */
class BatchUploadTest {
  private static final int MAX_FILES = 4;
  private static final AtomicInteger SIZES = new AtomicInteger(100);
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("upload", new JsonObject().put("max-files-per-request", MAX_FILES))
        // a callbackUrl to this host is accepted (no webhooks role runs here: nothing is sent)
        .put("webhooks", new JsonObject().put("secret", "batch-test-secret-0123456789").put("allow-private-targets", true)));
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  /** An image no other test of this class uploads. */
  private static byte[] freshImage() {
    int w = SIZES.incrementAndGet();
    return TestImages.discs(w, 60, "png", w);
  }

  private static MultipartForm form(byte[]... files) {
    MultipartForm form = MultipartForm.create();
    for (int i = 0; i < files.length; i++) {
      form.binaryFileUpload("file", "f" + i + ".png", Buffer.buffer(files[i]), "image/png");
    }
    return form;
  }

  private static JsonArray items(HttpResponse<Buffer> r) {
    assertThat(r.getHeader("Content-Type")).startsWith("application/json");
    return r.bodyAsJsonObject().getJsonArray("items");
  }

  @Test
  void a_batch_of_three_images_gives_three_jobs_in_the_order_of_the_parts_and_all_of_them_succeed() {
    HttpResponse<Buffer> r = sys.api.uploadForm(form(freshImage(), freshImage(), freshImage()));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    JsonArray items = items(r);
    assertThat(items).hasSize(3);
    assertThat(r.bodyAsJsonObject().getInteger("accepted")).isEqualTo(3);
    assertThat(r.bodyAsJsonObject().getInteger("refused")).isZero();
    for (int i = 0; i < 3; i++) {
      JsonObject item = items.getJsonObject(i);
      assertThat(item.getInteger("index")).isEqualTo(i);
      assertThat(item.getString("filename")).isEqualTo("f" + i + ".png");
      assertThat(item.getInteger("status")).isEqualTo(202);
      assertThat(item.getString("jobStatus")).isIn("queued", "processing");
      assertThat(item.getJsonObject("links").getString("job")).isEqualTo("/jobs/" + item.getString("jobId"));
      JsonObject job = sys.api.awaitJob(item.getString("jobId"), Duration.ofSeconds(30));
      assertThat(job.getString("status")).isEqualTo("succeeded");
      assertThat(job.getString("imageId")).isEqualTo(item.getString("imageId"));
    }
  }

  @Test
  void a_non_image_and_an_oversized_image_get_their_own_errors_and_the_good_file_is_still_accepted() {
    long images = sys.count("SELECT count(*) FROM images");
    long blobs = sys.storedFiles();
    MultipartForm form = MultipartForm.create()
        .binaryFileUpload("file", "good.png", Buffer.buffer(freshImage()), "image/png")
        .binaryFileUpload("file", "evil.jpg", Buffer.buffer(TestImages.text()), "image/jpeg")
        .binaryFileUpload("file", "bomb.png", Buffer.buffer(TestImages.pngDeclaring(100_000, 100_000)), "image/png");

    HttpResponse<Buffer> r = sys.api.uploadForm(form);

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    JsonArray items = items(r);
    assertThat(items.getJsonObject(0).getInteger("status")).isEqualTo(202);
    assertThat(items.getJsonObject(0).getString("jobId")).isNotBlank();
    JsonObject text = items.getJsonObject(1);
    assertThat(text.getString("filename")).isEqualTo("evil.jpg");
    assertThat(text.getInteger("status")).isEqualTo(415);
    assertThat(text.getJsonObject("error").getString("code")).isEqualTo("unsupported_media_type");
    assertThat(text.getJsonObject("error").getString("message")).isNotBlank();
    assertThat(text.containsKey("jobId")).isFalse();
    JsonObject bomb = items.getJsonObject(2);
    assertThat(bomb.getInteger("status")).isEqualTo(413);
    assertThat(bomb.getJsonObject("error").getString("code")).isEqualTo("image_too_large");
    assertThat(r.bodyAsJsonObject().getInteger("accepted")).isEqualTo(1);
    assertThat(r.bodyAsJsonObject().getInteger("refused")).isEqualTo(2);
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images + 1);
    assertThat(sys.storedFiles()).isEqualTo(blobs + 1);
  }

  @Test
  void a_batch_with_no_file_accepted_answers_the_status_of_its_first_error() {
    long images = sys.count("SELECT count(*) FROM images");
    MultipartForm form = MultipartForm.create()
        .binaryFileUpload("file", "cut.png", Buffer.buffer(TestImages.truncated(freshImage(), 0.5)), "image/png")
        .binaryFileUpload("file", "evil.jpg", Buffer.buffer(TestImages.text()), "image/jpeg");

    HttpResponse<Buffer> r = sys.api.uploadForm(form);

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(422);
    assertThat(items(r).getJsonObject(0).getJsonObject("error").getString("code")).isEqualTo("corrupt_image");
    assertThat(items(r).getJsonObject(1).getInteger("status")).isEqualTo(415);
    assertThat(r.bodyAsJsonObject().getInteger("accepted")).isZero();
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images);
  }

  @Test
  void more_files_than_allowed_are_refused_with_413_before_anything_is_stored() {
    long images = sys.count("SELECT count(*) FROM images");
    long blobs = sys.storedFiles();

    HttpResponse<Buffer> r = sys.api.uploadForm(form(freshImage(), freshImage(), freshImage(), freshImage(),
        freshImage()));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(413);
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("too_many_files");
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("at most " + MAX_FILES);
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images);
    assertThat(sys.storedFiles()).isEqualTo(blobs);
  }

  @Test
  void one_file_part_is_answered_as_a_single_upload_always_was() {
    HttpResponse<Buffer> r = sys.api.uploadForm(form(freshImage()));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    JsonObject body = r.bodyAsJsonObject();
    assertThat(body.fieldNames()).containsExactlyInAnyOrder("jobId", "imageId", "status", "links");
    assertThat(r.getHeader("Location")).isEqualTo("/jobs/" + body.getString("jobId"));
  }

  @Test
  void the_same_image_twice_in_a_batch_gets_one_job_and_a_duplicate_image_item() {
    byte[] image = freshImage();

    HttpResponse<Buffer> r = sys.api.uploadForm(form(image, image));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    JsonArray items = items(r);
    assertThat(items.stream().map(i -> ((JsonObject) i).getInteger("status"))).containsExactlyInAnyOrder(202, 409);
    JsonObject duplicate = items.getJsonObject(items.getJsonObject(0).getInteger("status") == 409 ? 0 : 1);
    assertThat(duplicate.getJsonObject("error").getString("code")).isEqualTo("duplicate_image");
    assertThat(duplicate.getString("jobId")).isEqualTo(items.getJsonObject(1 - duplicate.getInteger("index"))
        .getString("jobId"));
    assertThat(sys.count("SELECT count(*) FROM jobs WHERE image_id = '" + duplicate.getString("imageId") + "'"))
        .isEqualTo(1);
  }

  @Test
  void every_file_of_a_batch_carries_the_requests_callback_url() {
    String callback = "http://127.0.0.1:9/batch-done";
    HttpResponse<Buffer> r = sys.api.send(sys.api.web().post("/images")
        .addQueryParam("callbackUrl", callback).sendMultipartForm(form(freshImage(), freshImage())));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    for (Object item : items(r)) {
      String jobId = ((JsonObject) item).getString("jobId");
      assertThat(sys.count("SELECT count(*) FROM jobs WHERE job_id = '" + jobId + "' AND callback_url = '" + callback
          + "'")).as("job " + jobId).isEqualTo(1);
    }
  }

  @Test
  void a_batch_as_curl_sends_it_with_two_file_parts_of_one_form_is_understood() {
    // curl -F file=@a.png -F file=@b.png: two form-data parts of the same name, not multipart/mixed
    String boundary = "------------------------curlboundary1234";
    Buffer body = Buffer.buffer();
    byte[][] files = {freshImage(), freshImage()};
    for (int i = 0; i < files.length; i++) {
      body.appendString("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"c" + i
          + ".png\"\r\nContent-Type: image/png\r\n\r\n", "US-ASCII").appendBytes(files[i]).appendString("\r\n");
    }
    body.appendString("--" + boundary + "--\r\n", "US-ASCII");

    HttpResponse<Buffer> r = sys.api.send(sys.api.web().post("/images")
        .putHeader("Content-Type", "multipart/form-data; boundary=" + boundary).sendBuffer(body));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    assertThat(items(r).stream().map(i -> ((JsonObject) i).getString("filename"))).containsExactly("c0.png", "c1.png");
    assertThat(new String(r.body().getBytes(), StandardCharsets.UTF_8)).doesNotContain("\"error\"");
  }
}
