package io.aiq.circles.persistence;

import static io.aiq.circles.persistence.ResultRepository.Outcome.APPLIED;
import static io.aiq.circles.persistence.ResultRepository.Outcome.DELETED_JOB;
import static io.aiq.circles.persistence.ResultRepository.Outcome.UNCHANGED;
import static io.aiq.circles.persistence.ResultRepository.Outcome.UNKNOWN_JOB;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.persistence.ResultRepository.Outcome;
import io.aiq.circles.testing.PostgresFixture;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import java.sql.Timestamp;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The results writer's batches ({@link ResultRepository#applyBatch}) on a real database: a polled
 * batch of detection events applied in one transaction leaves the jobs as applying the events one at
 * a time does, with the outcome of each event in the events' order; a redelivered batch changes
 * nothing; the first terminal status wins. Each test has its own jobs (each of its own uploaded
 * image), made as an upload makes them; what a batch did is read back from the rows.
 */
class ResultRepositoryBatchTest {
  private static final AtomicInteger IDS = new AtomicInteger();
  private static final List<Detection> TWO = List.of(
      new Detection(new BoundingBox(10, 20, 50, 40), 0.9), new Detection(new BoundingBox(100, 100, 140, 150), 0.8));
  private static final List<Detection> ONE = List.of(new Detection(new BoundingBox(5, 5, 9, 9), 0.3));

  private static Vertx vertx;
  private static String url;
  private static Pool pool;
  private static ResultRepository results;

  @BeforeAll
  static void schema() throws Exception {
    vertx = Vertx.vertx();
    url = PostgresFixture.createDatabase();
    AppConfig.Database cfg = new AppConfig.Database(url, "", "", 4, 16, 5000, true);
    Database.migrate(vertx, cfg).await(60, TimeUnit.SECONDS);
    pool = Database.pool(vertx, cfg);
    results = new ResultRepository(pool);
  }

  @AfterAll
  static void close() throws Exception {
    pool.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  // ---- what a batch writes -----------------------------------------------------------------------

  @Test
  void a_batch_of_starts_and_completions_ends_each_job_succeeded_with_its_detections_started_when_it_started_and_finished_when_it_completed()
      throws Exception {
    Job a = queuedJob();
    Job b = queuedJob();
    Job c = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    List<Outcome> outcomes = apply(started(a, t), started(b, t.plusMillis(1)), completed(a, TWO, t.plusMillis(10)),
        started(c, t.plusMillis(2)), completed(b, ONE, t.plusMillis(11)), completed(c, List.of(), t.plusMillis(12)));

    assertThat(outcomes).containsExactly(APPLIED, APPLIED, APPLIED, APPLIED, APPLIED, APPLIED);
    assertSucceeded(a, TWO, t, t.plusMillis(10));
    assertSucceeded(b, ONE, t.plusMillis(1), t.plusMillis(11));
    assertSucceeded(c, List.of(), t.plusMillis(2), t.plusMillis(12));
  }

  @Test
  void a_job_only_started_in_a_batch_becomes_processing_with_its_start_time() throws Exception {
    Job a = queuedJob();
    Job other = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    List<Outcome> outcomes = apply(started(a, t), completed(other, ONE, t.plusMillis(5)));

    assertThat(outcomes).containsExactly(APPLIED, APPLIED);
    Map<String, Object> job = job(a);
    assertThat(job).containsEntry("status", "processing");
    assertThat(instant(job, "started_at")).isEqualTo(t);
    assertThat(job.get("finished_at")).isNull();
    assertThat(detections(a)).isEmpty();
  }

  @Test
  void a_detection_failed_in_a_batch_ends_its_job_failed_with_its_error_code_and_message() throws Exception {
    Job a = queuedJob();
    Job other = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    List<Outcome> outcomes = apply(started(a, t), completed(other, ONE, t.plusMillis(3)),
        failed(a, DetectionFailed.MODEL_ERROR, "the model ran out of memory", t.plusMillis(7)));

    assertThat(outcomes).containsExactly(APPLIED, APPLIED, APPLIED);
    Map<String, Object> job = job(a);
    assertThat(job).containsEntry("status", "failed").containsEntry("error_code", "model_error")
        .containsEntry("error_message", "the model ran out of memory");
    assertThat(instant(job, "started_at")).isEqualTo(t);
    assertThat(instant(job, "finished_at")).isEqualTo(t.plusMillis(7));
    assertThat(detections(a)).isEmpty();
  }

  @Test
  void a_detection_failed_without_a_start_in_its_batch_ends_a_queued_job_failed() throws Exception {
    Job a = queuedJob();
    Job other = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    // what the ingest sweeper sends for a job nobody processed: no DetectionStarted ever came
    List<Outcome> outcomes = apply(failed(a, DetectionFailed.NOT_PROCESSED, "no inference result", t),
        completed(other, ONE, t));

    assertThat(outcomes).containsExactly(APPLIED, APPLIED);
    assertThat(job(a)).containsEntry("status", "failed").containsEntry("error_code", "not_processed")
        .containsEntry("started_at", null);
    assertThat(instant(job(a), "finished_at")).isEqualTo(t);
  }

  @Test
  void a_detection_started_behind_its_jobs_completion_in_the_batch_changes_nothing_as_one_at_a_time() throws Exception {
    Job a = queuedJob();
    Job other = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    // a job the sweeper republished, run twice: one run's result, then the other run's start
    List<Outcome> outcomes = apply(completed(a, TWO, t), started(a, t.plusSeconds(5)), completed(other, ONE, t));

    assertThat(outcomes).containsExactly(APPLIED, UNCHANGED, APPLIED);
    // never started after it finished: the completion's time, as applying them one at a time gives
    assertSucceeded(a, TWO, t, t);
  }

  // ---- redeliveries and the first terminal status ------------------------------------------------

  @Test
  void a_redelivered_batch_gives_unchanged_for_every_event_and_changes_no_row_nor_adds_detections() throws Exception {
    Job a = queuedJob();
    Job b = queuedJob();
    Job c = queuedJob();
    Job d = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    List<Object> batch = List.of(started(a, t), completed(a, TWO, t.plusMillis(1)), completed(b, ONE, t.plusMillis(2)),
        failed(c, DetectionFailed.MODEL_ERROR, "boom", t.plusMillis(3)), started(d, t.plusMillis(4)));
    assertThat(results.applyBatch(batch).await(30, TimeUnit.SECONDS)).containsOnly(APPLIED);
    List<Map<String, Object>> before = List.of(job(a), job(b), job(c), job(d));

    List<Outcome> again = results.applyBatch(batch).await(30, TimeUnit.SECONDS);

    assertThat(again).containsExactly(UNCHANGED, UNCHANGED, UNCHANGED, UNCHANGED, UNCHANGED);
    assertThat(List.of(job(a), job(b), job(c), job(d))).isEqualTo(before);
    assertThat(detections(a)).hasSize(2);
    assertThat(detections(b)).hasSize(1);
  }

  @Test
  void a_job_that_succeeded_in_an_earlier_batch_is_not_rewritten_by_a_failure_in_a_later_one() throws Exception {
    Job a = queuedJob();
    Job b = queuedJob();
    Job c = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    apply(completed(a, TWO, t), completed(b, ONE, t));
    Map<String, Object> succeeded = job(a);

    List<Outcome> outcomes = apply(failed(a, DetectionFailed.NOT_PROCESSED, "too late", t.plusSeconds(1)),
        completed(c, ONE, t.plusSeconds(1)));

    assertThat(outcomes).containsExactly(UNCHANGED, APPLIED);
    assertThat(job(a)).isEqualTo(succeeded);
    assertThat(detections(a)).hasSize(2);
  }

  @Test
  void a_second_completion_of_a_job_that_succeeded_in_an_earlier_batch_adds_none_of_its_detections() throws Exception {
    Job a = queuedJob();
    Job b = queuedJob();
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    apply(completed(a, ONE, t), completed(b, ONE, t));
    Map<String, Object> succeeded = job(a);

    // a second inference of the same job after a rebalance: other detections, more of them
    List<Outcome> outcomes = apply(completed(a, TWO, t.plusSeconds(1)), completed(queuedJob(), ONE, t));

    assertThat(outcomes).containsExactly(UNCHANGED, APPLIED);
    assertThat(job(a)).isEqualTo(succeeded);
    assertSucceeded(a, ONE, t, t);
  }

  @Test
  void a_cancelled_job_is_not_rewritten_by_a_start_a_completion_or_a_failure() throws Exception {
    Job startedAndCompleted = queuedJob();
    Job failed = queuedJob();
    Job live = queuedJob();
    CancellationRepository cancellations = new CancellationRepository(pool);
    cancellations.cancel(startedAndCompleted.id()).await(30, TimeUnit.SECONDS);
    cancellations.cancel(failed.id()).await(30, TimeUnit.SECONDS);
    Map<String, Object> cancelledA = job(startedAndCompleted);
    Map<String, Object> cancelledB = job(failed);
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    List<Outcome> outcomes = apply(started(startedAndCompleted, t), completed(startedAndCompleted, TWO, t),
        failed(failed, DetectionFailed.MODEL_ERROR, "boom", t), completed(live, ONE, t));

    assertThat(outcomes).containsExactly(UNCHANGED, UNCHANGED, UNCHANGED, APPLIED);
    assertThat(job(startedAndCompleted)).isEqualTo(cancelledA).containsEntry("status", "cancelled");
    assertThat(job(failed)).isEqualTo(cancelledB).containsEntry("status", "cancelled");
    assertThat(detections(startedAndCompleted)).isEmpty();
    assertThat(job(live)).containsEntry("status", "succeeded");
  }

  // ---- jobs the database does not have -------------------------------------------------------------

  @Test
  void events_for_an_unknown_job_and_for_a_job_deleted_with_its_image_are_told_apart_and_the_rest_of_the_batch_is_applied()
      throws Exception {
    Job a = queuedJob();
    Job b = queuedJob();
    Job deleted = deletedJob();
    Job unknown = new Job(UUID.randomUUID(), a.imageId());
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);

    List<Outcome> outcomes = apply(completed(a, TWO, t), completed(unknown, ONE, t),
        failed(deleted, DetectionFailed.MODEL_ERROR, "late", t), started(b, t));

    assertThat(outcomes).containsExactly(APPLIED, UNKNOWN_JOB, DELETED_JOB, APPLIED);
    assertSucceeded(a, TWO, t, t);
    assertThat(job(b)).containsEntry("status", "processing");
    assertThat(rows("SELECT * FROM jobs WHERE job_id = ?", unknown.id())).isEmpty();
    assertThat(rows("SELECT * FROM jobs WHERE job_id = ?", deleted.id())).isEmpty();
    assertThat(detections(unknown)).isEmpty();
  }

  @Test
  void the_outcomes_come_back_in_the_order_of_the_events_whatever_their_kinds() throws Exception {
    Job failsNow = queuedJob();
    Job alreadySucceeded = queuedJob();
    Job succeedsNow = queuedJob();
    Job deleted = deletedJob();
    Job unknown = new Job(UUID.randomUUID(), failsNow.imageId());
    Instant t = Instant.now().truncatedTo(ChronoUnit.MILLIS);
    apply(completed(alreadySucceeded, ONE, t), completed(queuedJob(), ONE, t));

    List<Outcome> outcomes = apply(failed(failsNow, DetectionFailed.MODEL_ERROR, "boom", t), started(unknown, t),
        started(alreadySucceeded, t), completed(succeedsNow, ONE, t), started(deleted, t),
        completed(alreadySucceeded, TWO, t));

    assertThat(outcomes).containsExactly(APPLIED, UNKNOWN_JOB, UNCHANGED, APPLIED, DELETED_JOB, UNCHANGED);
  }

  // ---- which batches it takes ----------------------------------------------------------------------

  @Test
  void starts_completions_and_failures_of_distinct_jobs_with_a_start_and_a_finish_of_one_job_are_batchable() {
    Job a = new Job(UUID.randomUUID(), "x");
    Job b = new Job(UUID.randomUUID(), "x");
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(started(a, t), completed(a, ONE, t),
        failed(b, DetectionFailed.MODEL_ERROR, "m", t)))).isTrue();
  }

  @Test
  void two_completions_of_one_job_are_not_batchable() {
    Job a = new Job(UUID.randomUUID(), "x");
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(completed(a, ONE, t), completed(a, TWO, t)))).isFalse();
  }

  @Test
  void a_completion_and_a_failure_of_one_job_are_not_batchable() {
    Job a = new Job(UUID.randomUUID(), "x");
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(completed(a, ONE, t), failed(a, DetectionFailed.MODEL_ERROR, "m", t))))
        .isFalse();
  }

  @Test
  void two_starts_of_one_job_are_not_batchable() {
    Job a = new Job(UUID.randomUUID(), "x");
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(started(a, t), started(a, t.plusMillis(1))))).isFalse();
  }

  @Test
  void a_batch_with_a_job_id_that_is_not_a_uuid_is_not_batchable() {
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(completed(new Job(UUID.randomUUID(), "x"), ONE, t),
        new DetectionsCompleted("not-a-uuid", "x", "circles", "7", ONE, 5, t)))).isFalse();
  }

  @Test
  void a_batch_with_an_object_that_is_no_detection_event_is_not_batchable() {
    Instant t = Instant.now();

    assertThat(ResultRepository.batchable(List.of(completed(new Job(UUID.randomUUID(), "x"), ONE, t), "an event?")))
        .isFalse();
  }

  // ---- fixtures ------------------------------------------------------------------------------------

  private record Job(UUID id, String imageId) {
  }

  /** A new image's upload: its job, queued. */
  private static Job queuedJob() throws Exception {
    String imageId = String.format("%064x", 0xba7c4000L + IDS.incrementAndGet());
    Submission s = new SubmissionRepository(pool)
        .submit(new NewImage(imageId, ImageStore.refFor(imageId, "png"), "image/png", "png", 10, 10, 100), false)
        .await(30, TimeUnit.SECONDS);
    return new Job(s.jobId(), imageId);
  }

  /** A job that succeeded, then was deleted with its image (DELETE /images/{id}). */
  private static Job deletedJob() throws Exception {
    Job job = queuedJob();
    results.completed(completed(job, ONE, Instant.now())).await(30, TimeUnit.SECONDS);
    new DeletionRepository(pool).deleteRequested(job.imageId(), ImageDeleted.REQUEST).await(30, TimeUnit.SECONDS);
    assertThat(rows("SELECT * FROM deleted_jobs WHERE job_id = ?", job.id())).hasSize(1);
    return job;
  }

  private static DetectionStarted started(Job job, Instant at) {
    return new DetectionStarted(job.id().toString(), job.imageId(), at);
  }

  private static DetectionsCompleted completed(Job job, List<Detection> detections, Instant at) {
    return new DetectionsCompleted(job.id().toString(), job.imageId(), "circles", "7", detections, 42, at);
  }

  private static DetectionFailed failed(Job job, String reason, String message, Instant at) {
    return new DetectionFailed(job.id().toString(), job.imageId(), reason, message, at);
  }

  private static List<Outcome> apply(Object... events) throws Exception {
    List<Object> batch = List.of(events);
    assertThat(ResultRepository.batchable(batch)).as("a batch applyBatch takes").isTrue();
    return results.applyBatch(batch).await(30, TimeUnit.SECONDS);
  }

  private static void assertSucceeded(Job job, List<Detection> detections, Instant startedAt, Instant finishedAt)
      throws Exception {
    Map<String, Object> row = job(job);
    assertThat(row).as("job %s", job.id()).containsEntry("status", "succeeded").containsEntry("model_name", "circles")
        .containsEntry("model_version", "7").containsEntry("inference_ms", 42L)
        .containsEntry("detection_count", detections.size());
    assertThat(instant(row, "started_at")).as("started_at").isEqualTo(startedAt);
    assertThat(instant(row, "finished_at")).as("finished_at").isEqualTo(finishedAt);
    List<Map<String, Object>> expected = new ArrayList<>();
    for (int i = 0; i < detections.size(); i++) {
      Detection d = detections.get(i);
      Map<String, Object> r = new LinkedHashMap<>();
      r.put("object_id", i);
      r.put("box_xmin", d.bbox().xmin());
      r.put("box_ymin", d.bbox().ymin());
      r.put("box_xmax", d.bbox().xmax());
      r.put("box_ymax", d.bbox().ymax());
      r.put("score", d.score());
      expected.add(r);
    }
    assertThat(detections(job)).as("detections of %s", job.id()).isEqualTo(expected);
  }

  private static Map<String, Object> job(Job job) throws Exception {
    List<Map<String, Object>> found = rows("SELECT * FROM jobs WHERE job_id = ?", job.id());
    assertThat(found).as("job %s", job.id()).hasSize(1);
    return found.get(0);
  }

  private static List<Map<String, Object>> detections(Job job) throws Exception {
    return rows("SELECT object_id, box_xmin, box_ymin, box_xmax, box_ymax, score FROM detections WHERE job_id = ?"
        + " ORDER BY object_id", job.id());
  }

  private static List<Map<String, Object>> rows(String sql, Object param) throws Exception {
    return PostgresFixture.rows(url, sql, param);
  }

  private static Instant instant(Map<String, Object> row, String column) {
    return ((Timestamp) row.get(column)).toInstant();
  }
}
