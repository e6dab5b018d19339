package io.aiq.circles.results;

import static io.aiq.circles.results.ResultsTestbed.WITHIN;
import static io.aiq.circles.results.ResultsTestbed.detections;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.TopicProbe;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The results writer alone, on a real broker and database: the detection events move a job forward
 * ({@code queued → processing → succeeded | failed}) and store its detections, idempotently, the
 * first terminal status winning; a record it can never apply goes to the dead-letter topic with the
 * reason in its headers, and the records behind it are applied. One consumer serves every test; each
 * test has its own image and job, and sends its records keyed by its image, so they share a partition
 * in order.
 */
class ResultsConsumerVerticleTest {
  private static final List<Detection> THREE = detections(10, 20, 50, 40, 0.9, 100, 100, 140, 150, 0.8,
      5, 5, 9, 9, 0.3);

  private static ResultsTestbed bed;

  @BeforeAll
  static void start() throws Exception {
    bed = new ResultsTestbed(null).deployConsumer();
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void detection_started_moves_a_queued_job_to_processing_with_its_start_time() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    Instant startedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    started(jobId, imageId, startedAt);

    Map<String, Object> job = bed.awaitJob(jobId, j -> "processing".equals(j.get("status")));
    assertThat(((Timestamp) job.get("started_at")).toInstant()).isEqualTo(startedAt);
    assertThat(job.get("finished_at")).isNull();
  }

  @Test
  void detections_completed_makes_the_job_succeeded_with_its_detections_as_rows_numbered_from_zero() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    Instant completedAt = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(jobId.toString(), imageId, "circles", "7", THREE, 42, completedAt).toJson().encode());

    Map<String, Object> job = bed.awaitJob(jobId, j -> "succeeded".equals(j.get("status")));
    assertThat(job).containsEntry("model_name", "circles").containsEntry("model_version", "7")
        .containsEntry("inference_ms", 42L).containsEntry("detection_count", 3);
    assertThat(((Timestamp) job.get("finished_at")).toInstant()).isEqualTo(completedAt);
    assertThat(bed.detectionRows(jobId)).containsExactly(
        detectionRow(0, 10, 20, 50, 40, 0.9), detectionRow(1, 100, 100, 140, 150, 0.8), detectionRow(2, 5, 5, 9, 9, 0.3));
  }

  @Test
  void a_repeated_detections_completed_for_a_succeeded_job_changes_nothing() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    completed(jobId, imageId, THREE);
    Map<String, Object> first = bed.awaitJob(jobId, j -> "succeeded".equals(j.get("status")));
    List<Map<String, Object>> firstDetections = bed.detectionRows(jobId);

    // a redelivery, or a second inference of the same job after a rebalance: other detections
    RecordMetadata repeat = completed(jobId, imageId, detections(1, 1, 2, 2, 0.5));
    bed.awaitHandled(repeat);

    assertThat(bed.job(jobId)).isEqualTo(first);
    assertThat(bed.detectionRows(jobId)).isEqualTo(firstDetections).hasSize(3);
  }

  @Test
  void a_detection_failed_after_success_changes_nothing_as_the_first_terminal_status_wins() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    completed(jobId, imageId, THREE);
    Map<String, Object> succeeded = bed.awaitJob(jobId, j -> "succeeded".equals(j.get("status")));

    RecordMetadata late = failed(jobId, imageId, DetectionFailed.NOT_PROCESSED, "too late");
    bed.awaitHandled(late);

    assertThat(bed.job(jobId)).isEqualTo(succeeded);
    assertThat(bed.detectionRows(jobId)).hasSize(3);
  }

  @Test
  void a_detection_failed_ends_a_queued_job_failed_with_its_reason_and_message() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);

    // what the ingest sweeper sends for a job nobody processed
    failed(jobId, imageId, DetectionFailed.NOT_PROCESSED, "no inference result after 5 submissions");

    Map<String, Object> job = bed.awaitJob(jobId, j -> "failed".equals(j.get("status")));
    assertThat(job).containsEntry("error_code", "not_processed")
        .containsEntry("error_message", "no inference result after 5 submissions");
    assertThat(job.get("finished_at")).isNotNull();
    assertThat(bed.detectionRows(jobId)).isEmpty();
  }

  @Test
  void a_detection_started_after_the_job_succeeded_does_not_move_it_back() throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);
    completed(jobId, imageId, THREE);
    Map<String, Object> succeeded = bed.awaitJob(jobId, j -> "succeeded".equals(j.get("status")));

    bed.awaitHandled(started(jobId, imageId, Instant.now()));

    assertThat(bed.job(jobId)).isEqualTo(succeeded);
  }

  @Test
  void a_result_for_an_unknown_job_is_dead_lettered_as_unknown_job_and_the_results_behind_it_are_applied()
      throws Exception {
    String imageId = bed.insertImage();
    UUID known = bed.insertQueuedJob(imageId);
    String unknown = UUID.randomUUID().toString();
    String value = new DetectionsCompleted(unknown, imageId, "circles", "7", THREE, 3, Instant.now()).toJson().encode();

    RecordMetadata sent = bed.publish(bed.topics.detectionsCompleted(), imageId, value);
    completed(known, imageId, THREE);

    ConsumerRecord<String, String> dead = deadLetterOf(sent);
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo("unknown_job");
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_GROUP)).isEqualTo(bed.group());
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_ATTEMPTS)).isEqualTo("1");
    assertThat(dead.key()).isEqualTo(imageId);
    assertThat(dead.value()).isEqualTo(value);
    assertThat(bed.rows("SELECT * FROM detections WHERE job_id = ?", UUID.fromString(unknown))).isEmpty();
    bed.awaitJob(known, j -> "succeeded".equals(j.get("status")));
  }

  @Test
  void an_unreadable_record_is_dead_lettered_unchanged_as_invalid_event_and_the_results_behind_it_are_applied()
      throws Exception {
    String imageId = bed.insertImage();
    UUID jobId = bed.insertQueuedJob(imageId);

    RecordMetadata sent = bed.publish(bed.topics.detectionsCompleted(), imageId, "{\"this is\": not json");
    completed(jobId, imageId, THREE);

    ConsumerRecord<String, String> dead = deadLetterOf(sent);
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo("invalid_event");
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_MESSAGE)).isNotBlank();
    assertThat(dead.value()).isEqualTo("{\"this is\": not json");
    bed.awaitJob(jobId, j -> "succeeded".equals(j.get("status")));
  }

  @Test
  void a_result_the_database_refuses_is_dead_lettered_as_rejected_by_database_its_job_failed_and_the_results_behind_it_applied()
      throws Exception {
    String imageId = bed.insertImage();
    UUID refused = bed.insertQueuedJob(imageId);
    UUID next = bed.insertQueuedJob(imageId);

    // valid JSON, a valid event, but PostgreSQL text cannot hold a NUL character
    RecordMetadata sent = failed(refused, imageId, DetectionFailed.MODEL_ERROR, "bad\u0000message");
    completed(next, imageId, THREE);

    ConsumerRecord<String, String> dead = deadLetterOf(sent);
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo("rejected_by_database");
    bed.awaitJob(next, j -> "succeeded".equals(j.get("status")));
    // and its job ends now, not after the sweeper's timeouts
    bed.awaitJob(refused, j -> "failed".equals(j.get("status")));
    assertThat(bed.job(refused)).containsEntry("error_code", DetectionFailed.PROCESSING_FAILED);
  }

  // ---- events, as the inference role (or the sweeper) publishes them -----------------------------------

  private static RecordMetadata started(UUID jobId, String imageId, Instant at) {
    return bed.publish(bed.topics.detectionsStarted(), imageId,
        new DetectionStarted(jobId.toString(), imageId, at).toJson().encode());
  }

  private static RecordMetadata completed(UUID jobId, String imageId, List<Detection> detections) {
    return bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(jobId.toString(), imageId, "circles", "7", detections, 5, Instant.now()).toJson().encode());
  }

  private static RecordMetadata failed(UUID jobId, String imageId, String reason, String message) {
    return bed.publish(bed.topics.detectionsFailed(), imageId,
        new DetectionFailed(jobId.toString(), imageId, reason, message, Instant.now()).toJson().encode());
  }

  /** The dead letter of this record: its origin's topic, partition and offset are in its headers. */
  private static ConsumerRecord<String, String> deadLetterOf(RecordMetadata sent) {
    return TopicProbe.await(bed.topics.deadLetter(), 1,
        r -> sent.topic().equals(TopicProbe.header(r, CloudEventHeaders.DLQ_TOPIC))
            && String.valueOf(sent.partition()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_PARTITION))
            && String.valueOf(sent.offset()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_OFFSET)),
        WITHIN).get(0);
  }

  private static Map<String, Object> detectionRow(int objectId, double xmin, double ymin, double xmax, double ymax,
                                                  double score) {
    Map<String, Object> row = new LinkedHashMap<>();
    row.put("object_id", objectId);
    row.put("box_xmin", xmin);
    row.put("box_ymin", ymin);
    row.put("box_xmax", xmax);
    row.put("box_ymax", ymax);
    row.put("score", score);
    return row;
  }
}
