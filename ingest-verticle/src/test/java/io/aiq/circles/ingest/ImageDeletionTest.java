package io.aiq.circles.ingest;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_DELETE;
import static io.aiq.circles.ingest.IngestTestbed.failureOf;
import static io.aiq.circles.ingest.IngestTestbed.newImage;
import static io.aiq.circles.ingest.IngestTestbed.recordsNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.contracts.messages.DeleteImage;
import io.aiq.circles.contracts.messages.Submission;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.persistence.DeletionRepository;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Deletion in the ingest role, as the gateway asks for it over the event bus ({@code DELETE
 * /images/{imageId}}): the image's rows and blob go, an {@code ImageDeleted} is published; deleting
 * again is 404; an image with a job in flight is refused and kept whole; a deletion interrupted
 * after its rows (a crash, a store or broker outage) is finished by the same request sent again.
 */
class ImageDeletionTest {
  private static IngestTestbed bed;
  private static Topics topics;
  private static Path storeRoot;

  @BeforeAll
  static void start() throws Exception {
    bed = new IngestTestbed(true);
    // no retention pass during these tests: what is finished here is finished by the request
    AppConfig config = bed.config(new JsonObject().put("retention", new JsonObject().put("interval-ms", 3_600_000)));
    topics = config.kafka().topics();
    storeRoot = config.store().root();
    bed.deploy(config);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void a_deleted_image_loses_its_rows_and_blob_and_an_image_deleted_event_keyed_by_it_is_published() throws Exception {
    SubmitImage image = newImage(false);
    UUID jobId = finishedUpload(image);
    Path blob = blobOf(image);
    assertThat(blob).exists();

    delete(image.imageId()).await(30, TimeUnit.SECONDS);

    assertThat(bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId())).isEmpty();
    assertThat(bed.jobsOf(image.imageId())).isEmpty();
    assertThat(bed.rows("SELECT * FROM detections WHERE job_id = ?", jobId)).isEmpty();
    assertThat(blob).doesNotExist();
    ConsumerRecord<String, String> event = single(deletedEventsOf(image.imageId()));
    assertThat(TopicProbe.header(event, CloudEventHeaders.TYPE)).isEqualTo(ImageDeleted.TYPE);
    assertThat(TopicProbe.header(event, CloudEventHeaders.SOURCE)).isEqualTo("/aiq-circles/ingest");
    assertThat(TopicProbe.header(event, CloudEventHeaders.ID)).isNotBlank();
    assertThat(Instant.parse(TopicProbe.header(event, CloudEventHeaders.TIME))).isNotNull();
    assertThat(new JsonObject(event.value()).getInteger("schemaVersion")).isEqualTo(1);
    ImageDeleted payload = ImageDeleted.fromJson(Buffer.buffer(event.value()));
    assertThat(payload.imageId()).isEqualTo(image.imageId());
    assertThat(payload.jobIds()).containsExactly(jobId.toString());
    assertThat(payload.reason()).isEqualTo(ImageDeleted.REQUEST);
  }

  @Test
  void deleting_a_deleted_or_unknown_image_is_not_found_and_publishes_nothing_more() throws Exception {
    SubmitImage image = newImage(false);
    finishedUpload(image);
    delete(image.imageId()).await(30, TimeUnit.SECONDS);

    assertThat(failureOf(delete(image.imageId())).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(failureOf(delete("0".repeat(64))).code()).isEqualTo(ErrorCode.NOT_FOUND);
    assertThat(deletedEventsOf(image.imageId())).hasSize(1);
  }

  @Test
  void an_image_with_a_queued_or_a_processing_job_is_refused_with_job_in_flight_and_kept_whole() throws Exception {
    SubmitImage queued = newImage(false);
    bed.submit(queued); // an upload's job stays queued: no inference runs here
    SubmitImage processing = newImage(false);
    setStatus(UUID.fromString(bed.submit(processing).jobId()), "processing");

    for (SubmitImage image : List.of(queued, processing)) {
      ErrorCode.ApiFailure refused = failureOf(delete(image.imageId()));

      assertThat(refused.code()).isEqualTo(ErrorCode.JOB_IN_FLIGHT);
      assertThat(refused.message()).contains("queued or processing");
      assertThat(bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId())).hasSize(1);
      assertThat(bed.jobsOf(image.imageId())).hasSize(1);
      assertThat(blobOf(image)).exists();
      assertThat(deletedEventsOf(image.imageId())).isEmpty();
      assertThat(bed.rows("SELECT * FROM image_deletions WHERE image_id = ?", image.imageId())).isEmpty();
    }
  }

  @Test
  void a_deletion_interrupted_after_its_rows_is_finished_by_the_same_request_sent_again() throws Exception {
    SubmitImage image = newImage(false);
    UUID jobId = finishedUpload(image);
    // what a crash right after the rows' transaction leaves: rows gone, the blob and the event to do
    new DeletionRepository(bed.pool).deleteRequested(image.imageId(), ImageDeleted.REQUEST).await(30, TimeUnit.SECONDS);
    assertThat(bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId())).isEmpty();
    assertThat(blobOf(image)).exists();
    assertThat(deletedEventsOf(image.imageId())).isEmpty();

    delete(image.imageId()).await(30, TimeUnit.SECONDS);

    assertThat(blobOf(image)).doesNotExist();
    ImageDeleted payload = ImageDeleted.fromJson(Buffer.buffer(single(deletedEventsOf(image.imageId())).value()));
    assertThat(payload.jobIds()).containsExactly(jobId.toString());
    assertThat(bed.rows("SELECT * FROM image_deletions WHERE image_id = ?", image.imageId()))
        .singleElement().satisfies(d -> assertThat(d).containsEntry("blob_deleted", true).containsEntry("published", true));
    assertThat(failureOf(delete(image.imageId())).code()).isEqualTo(ErrorCode.NOT_FOUND);
  }

  @Test
  void a_store_that_cannot_remove_the_blob_is_unavailable_keeps_the_deletion_to_do_and_a_retry_finishes_it()
      throws Exception {
    SubmitImage image = newImage(false);
    finishedUpload(image);
    // a blob the filesystem refuses to delete: a folder that is not empty where the file was
    Path blob = blobOf(image);
    Files.delete(blob);
    Files.createDirectories(blob.resolve("in-the-way"));

    ErrorCode.ApiFailure first = failureOf(delete(image.imageId()));

    assertThat(first.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId())).isEmpty();
    assertThat(bed.rows("SELECT * FROM image_deletions WHERE image_id = ?", image.imageId()))
        .singleElement().satisfies(d -> assertThat(d).containsEntry("blob_deleted", false).containsEntry("published", false));
    assertThat(deletedEventsOf(image.imageId())).isEmpty();

    Files.delete(blob.resolve("in-the-way"));
    Files.delete(blob);
    delete(image.imageId()).await(30, TimeUnit.SECONDS);

    assertThat(deletedEventsOf(image.imageId())).hasSize(1);
    assertThat(bed.rows("SELECT * FROM image_deletions WHERE image_id = ?", image.imageId()))
        .singleElement().satisfies(d -> assertThat(d).containsEntry("published", true));
  }

  @Test
  void the_same_bytes_uploaded_after_a_deletion_are_a_new_image_with_a_new_queued_job_and_a_stored_blob()
      throws Exception {
    SubmitImage image = newImage(false);
    UUID first = finishedUpload(image);
    delete(image.imageId()).await(30, TimeUnit.SECONDS);

    Submission again = bed.submit(IngestTestbed.again(image, false));

    assertThat(again.newJob()).isTrue();
    assertThat(again.jobId()).isNotEqualTo(first.toString());
    assertThat(again.status().wire()).isEqualTo("queued");
    assertThat(blobOf(image)).exists();
    assertThat(Files.readAllBytes(blobOf(image))).isEqualTo(image.bytes().getBytes());
    assertThat(IngestTestbed.recordsOfJob(topics.imagesSubmitted(), again.jobId())).hasSize(1);
  }

  // ---- helpers -----------------------------------------------------------------------------------

  /** Sends DELETE as the gateway does. */
  private static Future<Message<Object>> delete(String imageId) {
    return bed.vertx.eventBus().request(INGEST_DELETE, new DeleteImage(imageId).toJson(),
        new DeliveryOptions().setSendTimeout(IngestTestbed.SEND_TIMEOUT_MS));
  }

  /** Uploads the image and finishes its job as the results role would: succeeded with one detection. */
  private static UUID finishedUpload(SubmitImage image) throws Exception {
    UUID jobId = UUID.fromString(bed.submit(image).jobId());
    setStatus(jobId, "succeeded");
    try (Connection c = bed.connect(); PreparedStatement s = c.prepareStatement("INSERT INTO detections (job_id,"
        + " object_id, box_xmin, box_ymin, box_xmax, box_ymax, score) VALUES (?, 0, 1, 1, 9, 9, 0.9)")) {
      s.setObject(1, jobId);
      s.executeUpdate();
    }
    return jobId;
  }

  private static void setStatus(UUID jobId, String status) throws Exception {
    try (Connection c = bed.connect(); PreparedStatement s = c.prepareStatement("UPDATE jobs SET status = ? WHERE job_id = ?")) {
      s.setString(1, status);
      s.setObject(2, jobId);
      assertThat(s.executeUpdate()).isEqualTo(1);
    }
  }

  private static Path blobOf(SubmitImage image) {
    return storeRoot.resolve(ImageStore.refFor(image.imageId(), "png"));
  }

  private static List<ConsumerRecord<String, String>> deletedEventsOf(String imageId) {
    return recordsNow(topics.imagesDeleted()).stream().filter(r -> imageId.equals(r.key())).toList();
  }

  private static ConsumerRecord<String, String> single(List<ConsumerRecord<String, String>> records) {
    assertThat(records).hasSize(1);
    return records.get(0);
  }
}
