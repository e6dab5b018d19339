package io.aiq.circles.ingest;

import static io.aiq.circles.ingest.IngestTestbed.newImage;
import static io.aiq.circles.ingest.IngestTestbed.recordsOfJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The sweeper of the ingest role: a job whose {@code ImageSubmitted} was lost (its row committed, its
 * event never acknowledged: a crash in between) is republished once it has been queued past
 * {@code sweeper.queued-timeout-ms}; after {@code sweeper.max-submissions} it is given up with a
 * {@code DetectionFailed} ({@code not_processed}), which the results role turns into a failed job.
 * The lost jobs are rows inserted directly, as such a crash leaves them.
 */
class QueuedJobSweeperTest {
  private static final long TIMEOUT_MS = 2500;
  private static final int MAX_SUBMISSIONS = 2;
  /** Long past every timeout. */
  private static final long STALE_MS = 60_000;
  private static final Duration WITHIN = Duration.ofSeconds(15);

  private static IngestTestbed bed;
  private static Topics topics;

  @BeforeAll
  static void start() throws Exception {
    bed = new IngestTestbed(true);
    AppConfig config = bed.config(new JsonObject().put("sweeper", new JsonObject().put("enabled", true)
        .put("interval-ms", 200).put("queued-timeout-ms", TIMEOUT_MS).put("processing-timeout-ms", TIMEOUT_MS)
        .put("max-submissions", MAX_SUBMISSIONS)));
    topics = config.kafka().topics();
    bed.deploy(config);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void a_queued_job_whose_event_was_lost_is_republished_keyed_by_its_image_and_counted() throws Exception {
    SubmitImage image = newImage(false);
    UUID jobId = bed.insertJob(image, "queued", 1, STALE_MS);

    ConsumerRecord<String, String> event = awaitOne(topics.imagesSubmitted(), jobId);

    assertThat(event.key()).isEqualTo(image.imageId());
    assertThat(TopicProbe.header(event, CloudEventHeaders.TYPE)).isEqualTo(ImageSubmitted.TYPE);
    assertThat(TopicProbe.header(event, CloudEventHeaders.TRACEPARENT)).isNotBlank();
    ImageSubmitted payload = ImageSubmitted.fromJson(Buffer.buffer(event.value()));
    assertThat(payload.imageId()).isEqualTo(image.imageId());
    assertThat(payload.storageRef()).isEqualTo(ImageStore.refFor(image.imageId(), "png"));
    assertThat(payload.width()).isEqualTo(image.width());
    // the job's own submission time, not the moment of the republish
    assertThat(payload.submittedAt())
        .isEqualTo(((Timestamp) bed.job(jobId).get("created_at")).toInstant());
    assertThat(bed.job(jobId)).containsEntry("status", "queued").containsEntry("submissions", 2);
  }

  @Test
  void a_job_stuck_in_processing_past_its_timeout_is_republished() throws Exception {
    SubmitImage image = newImage(false);
    UUID jobId = bed.insertJob(image, "processing", 1, STALE_MS);

    ConsumerRecord<String, String> event = awaitOne(topics.imagesSubmitted(), jobId);

    assertThat(event.key()).isEqualTo(image.imageId());
    assertThat(bed.job(jobId)).containsEntry("submissions", 2);
  }

  @Test
  void a_job_queued_for_less_than_the_timeout_is_left_alone() throws Exception {
    UUID fresh = bed.insertJob(newImage(false), "queued", 1, 0);
    UUID stale = bed.insertJob(newImage(false), "queued", 1, STALE_MS);

    // the stale job's republish shows a sweep ran; two more intervals pass, still inside the timeout
    awaitOne(topics.imagesSubmitted(), stale);
    Thread.sleep(400);

    assertThat(recordsOfJob(topics.imagesSubmitted(), fresh)).isEmpty();
    assertThat(bed.job(fresh)).containsEntry("submissions", 1);
  }

  @Test
  void a_job_nobody_takes_is_republished_until_max_submissions_then_given_up_as_not_processed() throws Exception {
    SubmitImage image = newImage(false);
    UUID jobId = bed.insertJob(image, "queued", 1, STALE_MS);

    ConsumerRecord<String, String> failure = TopicProbe.await(topics.detectionsFailed(), 1,
        r -> r.value().contains(jobId.toString()), WITHIN).get(0);

    DetectionFailed event = DetectionFailed.fromJson(Buffer.buffer(failure.value()));
    assertThat(event.jobId()).isEqualTo(jobId.toString());
    assertThat(event.imageId()).isEqualTo(image.imageId());
    assertThat(event.reason()).isEqualTo(DetectionFailed.NOT_PROCESSED);
    assertThat(event.message()).contains(MAX_SUBMISSIONS + " submissions");
    assertThat(failure.key()).isEqualTo(image.imageId());
    assertThat(TopicProbe.header(failure, CloudEventHeaders.TYPE)).isEqualTo(DetectionFailed.TYPE);
    // the first submission was the lost one: the sweeper published the rest, and no more
    assertThat(recordsOfJob(topics.imagesSubmitted(), jobId)).hasSize(MAX_SUBMISSIONS - 1);
    assertThat(bed.job(jobId)).containsEntry("submissions", MAX_SUBMISSIONS);
  }

  private static ConsumerRecord<String, String> awaitOne(String topic, UUID jobId) {
    List<ConsumerRecord<String, String>> found = TopicProbe.await(topic, 1, r -> r.value().contains(jobId.toString()),
        WITHIN);
    return found.get(0);
  }
}
