package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code DELETE /images/{imageId}} through the whole system, as a client and a downstream consumer
 * see it, with API keys on: 204, after which the image, its objects and its job are 404 and its file
 * is gone, and an {@code ImageDeleted} keyed by the image is on {@code aiq.images.deleted}; 404 when
 * sent again; 409 {@code job_in_flight} while a job is queued, with nothing removed; 400 for a
 * malformed id; 401 without a key; and the same bytes uploaded again give a new job that finishes.
 */
class ImageDeletionApiTest {
  private static final String KEY = "deletion-test-key-0123456789";
  private static final String MODEL_KEY = "model-only-key-0123456789ab";
  private static final AtomicInteger SEED = new AtomicInteger(500);
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject().put("api-keys", KEY + ", " + MODEL_KEY + ":model"));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void delete_answers_204_then_the_image_its_objects_and_its_job_are_404_the_file_is_gone_and_the_event_is_out() {
    byte[] bytes = newImage();
    JsonObject accepted = uploadAndFinish(bytes);
    String imageId = accepted.getString("imageId");
    String jobId = accepted.getString("jobId");
    Path blob = blobOf(imageId);
    assertThat(blob).exists();

    HttpResponse<Buffer> deleted = delete(imageId, KEY);

    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertThat(deleted.body() == null || deleted.body().length() == 0).isTrue();
    assertError(sys.api.get("/images/" + imageId), 404, "not_found");
    assertError(sys.api.get("/images/" + imageId + "/objects"), 404, "not_found");
    assertError(sys.api.get("/images/" + imageId + "/objects/0"), 404, "not_found");
    assertError(sys.api.get("/jobs/" + jobId), 404, "not_found");
    assertThat(blob).doesNotExist();
    ConsumerRecord<String, String> event = TopicProbe.await(sys.app.config().kafka().topics().imagesDeleted(), 1,
        r -> imageId.equals(r.key()), Duration.ofSeconds(30)).get(0);
    assertThat(TopicProbe.header(event, CloudEventHeaders.TYPE)).isEqualTo(ImageDeleted.TYPE);
    ImageDeleted payload = ImageDeleted.fromJson(Buffer.buffer(event.value()));
    assertThat(payload.imageId()).isEqualTo(imageId);
    assertThat(payload.jobIds()).containsExactly(jobId);
    assertThat(payload.reason()).isEqualTo("request");
    assertThat(sys.api.get("/metrics").bodyAsString()).containsPattern("aiq_images_deleted_total\\{[^}]*reason=\"request\"");
  }

  @Test
  void deleting_again_answers_404_with_a_json_error() {
    String imageId = uploadAndFinish(newImage()).getString("imageId");
    assertThat(delete(imageId, KEY).statusCode()).isEqualTo(204);

    assertError(delete(imageId, KEY), 404, "not_found");
  }

  @Test
  void an_image_with_a_queued_job_is_refused_with_409_job_in_flight_and_nothing_is_removed() throws Exception {
    String imageId = uploadAndFinish(newImage()).getString("imageId");
    // a second job, waiting for inference (as a reprocess leaves it until a consumer takes it)
    try (Connection c = PostgresFixture.connect(sys.env.databaseUrl());
         PreparedStatement s = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status) VALUES (?, ?, 'queued')")) {
      s.setObject(1, UUID.randomUUID());
      s.setString(2, imageId);
      s.executeUpdate();
    }

    assertError(delete(imageId, KEY), 409, "job_in_flight");

    HttpResponse<Buffer> image = sys.api.get("/images/" + imageId);
    assertThat(image.statusCode()).isEqualTo(200);
    assertThat(image.bodyAsJsonObject().getInteger("jobCount")).isEqualTo(2);
    assertThat(sys.api.get("/images/" + imageId + "/objects").statusCode()).isEqualTo(200);
    assertThat(blobOf(imageId)).exists();
  }

  @Test
  void a_malformed_image_id_is_400_invalid_id() {
    assertError(delete("not-a-sha256", KEY), 400, "invalid_id");
    assertError(delete("A".repeat(64), KEY), 400, "invalid_id");
  }

  @Test
  void without_a_key_it_is_401_with_a_model_only_key_403_and_the_image_stays() {
    String imageId = uploadAndFinish(newImage()).getString("imageId");

    HttpResponse<Buffer> none = sys.api.request(io.vertx.core.http.HttpMethod.DELETE, "/images/" + imageId);
    assertError(none, 401, "unauthorized");
    assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer");
    assertError(delete(imageId, MODEL_KEY), 403, "forbidden");
    assertThat(sys.api.get("/images/" + imageId).statusCode()).isEqualTo(200);
    assertThat(blobOf(imageId)).exists();
  }

  @Test
  void the_same_bytes_uploaded_after_a_deletion_give_a_new_job_that_succeeds_with_objects() {
    byte[] bytes = newImage();
    JsonObject first = uploadAndFinish(bytes);
    String imageId = first.getString("imageId");
    assertThat(delete(imageId, KEY).statusCode()).isEqualTo(204);

    HttpResponse<Buffer> again = upload(bytes);

    assertThat(again.statusCode()).as(again.bodyAsString()).isEqualTo(202);
    String jobId = again.bodyAsJsonObject().getString("jobId");
    assertThat(again.bodyAsJsonObject().getString("imageId")).isEqualTo(imageId);
    assertThat(jobId).isNotEqualTo(first.getString("jobId"));
    assertThat(sys.api.awaitJob(jobId, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
    HttpResponse<Buffer> objects = sys.api.get("/images/" + imageId + "/objects");
    assertThat(objects.statusCode()).isEqualTo(200);
    assertThat(objects.bodyAsJsonObject().getString("jobId")).isEqualTo(jobId);
    assertThat(objects.bodyAsJsonObject().getJsonArray("objects")).isNotEmpty();
    assertThat(blobOf(imageId)).exists();
  }

  // ---- helpers -----------------------------------------------------------------------------------

  private static byte[] newImage() {
    int n = SEED.incrementAndGet();
    return TestImages.discs(120 + n % 50, 90 + n % 30, "png", n);
  }

  private static HttpResponse<Buffer> upload(byte[] bytes) {
    return sys.api.send(sys.api.web().post("/images").putHeader("X-API-Key", KEY)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "d.png", Buffer.buffer(bytes), "image/png")));
  }

  /** The upload's 202 body, once its job succeeded. */
  private static JsonObject uploadAndFinish(byte[] bytes) {
    HttpResponse<Buffer> r = upload(bytes);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    JsonObject accepted = r.bodyAsJsonObject();
    assertThat(sys.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(60)).getString("status"))
        .isEqualTo("succeeded");
    return accepted;
  }

  private static HttpResponse<Buffer> delete(String imageId, String key) {
    return sys.api.send(sys.api.web().delete("/images/" + imageId).bearerTokenAuthentication(key).send());
  }

  private static Path blobOf(String imageId) {
    return sys.env.storeRoot().resolve(ImageStore.refFor(imageId, "png"));
  }
}
