package io.aiq.circles.ingest;

import static io.aiq.circles.ingest.IngestTestbed.again;
import static io.aiq.circles.ingest.IngestTestbed.newImage;
import static io.aiq.circles.ingest.IngestTestbed.recordsNow;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.contracts.messages.Submission;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ingest alone, on a real broker and database: an upload handed over by the gateway is stored under
 * its hash, recorded as a queued job and announced as {@code ImageSubmitted} before it is answered;
 * the same bytes again are the same job. One verticle serves every test; each uploads its own image.
 */
class IngestVerticleTest {
  private static IngestTestbed bed;
  private static Topics topics;

  @BeforeAll
  static void start() throws Exception {
    bed = new IngestTestbed(true);
    // no sweeps: what is on the topics is what the uploads published
    AppConfig config = bed.config(new JsonObject().put("sweeper", new JsonObject().put("enabled", false)));
    topics = config.kafka().topics();
    bed.deploy(config);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @Test
  void a_new_image_is_answered_as_a_new_queued_job_of_that_image() throws Exception {
    SubmitImage image = newImage(false);

    Submission reply = bed.submit(image);

    assertThat(reply.newJob()).isTrue();
    assertThat(reply.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(reply.imageId()).isEqualTo(image.imageId());
    assertThat(UUID.fromString(reply.jobId())).isNotNull();
  }

  @Test
  void a_new_image_is_timed_step_by_step_store_database_publish() throws Exception {
    long[] before = stageCounts();

    bed.submit(newImage(false));

    long[] after = stageCounts();
    for (int i = 0; i < STAGES.length; i++) {
      assertThat(after[i] - before[i]).as(STAGES[i]).isEqualTo(1);
    }
  }

  private static final String[] STAGES = {"store", "database", "publish"};

  private static long[] stageCounts() {
    long[] counts = new long[STAGES.length];
    for (int i = 0; i < STAGES.length; i++) {
      io.micrometer.core.instrument.Timer t = bed.registry.find("aiq_ingest_stage_seconds").tag("stage", STAGES[i])
          .timer();
      counts[i] = t == null ? 0 : t.count();
    }
    return counts;
  }

  @Test
  void a_new_image_is_stored_under_its_hash_with_no_temporary_file_left() throws Exception {
    SubmitImage image = newImage(false);

    bed.submit(image);

    Path blob = bed.env.storeRoot().resolve(ImageStore.refFor(image.imageId(), "png"));
    assertThat(blob).exists();
    assertThat(Files.readAllBytes(blob)).isEqualTo(image.bytes().getBytes());
    try (Stream<Path> siblings = Files.list(blob.getParent())) {
      assertThat(siblings.map(p -> p.getFileName().toString()).filter(n -> n.startsWith(image.imageId())))
          .containsExactly(image.imageId() + ".png");
    }
  }

  @Test
  void a_new_image_is_recorded_with_what_the_gateway_read_and_one_queued_job() throws Exception {
    SubmitImage image = newImage(false);

    Submission reply = bed.submit(image);

    Map<String, Object> row = bed.rows("SELECT * FROM images WHERE image_id = ?", image.imageId()).get(0);
    assertThat(row).containsEntry("storage_ref", ImageStore.refFor(image.imageId(), "png"))
        .containsEntry("content_type", "image/png").containsEntry("format", "png")
        .containsEntry("width", image.width()).containsEntry("height", image.height())
        .containsEntry("size_bytes", (long) image.bytes().length());
    List<Map<String, Object>> jobs = bed.jobsOf(image.imageId());
    assertThat(jobs).hasSize(1);
    assertThat(jobs.get(0)).containsEntry("job_id", UUID.fromString(reply.jobId()))
        .containsEntry("status", "queued").containsEntry("submissions", 1);
  }

  @Test
  void by_the_time_a_new_image_is_answered_its_image_submitted_is_on_the_topic_keyed_by_image_id_with_cloudevents_headers()
      throws Exception {
    SubmitImage image = newImage(false);
    Instant before = Instant.now();

    Submission reply = bed.submit(image);

    // read at once, no waiting: the answer came after the broker's acknowledgement
    List<ConsumerRecord<String, String>> events = IngestTestbed.recordsOfJob(topics.imagesSubmitted(), reply.jobId());
    assertThat(events).hasSize(1);
    ConsumerRecord<String, String> event = events.get(0);
    assertThat(event.topic()).startsWith(bed.env.topicPrefix()).endsWith(Topics.IMAGES_SUBMITTED);
    assertThat(event.key()).isEqualTo(image.imageId());
    assertThat(TopicProbe.header(event, CloudEventHeaders.TYPE)).isEqualTo(ImageSubmitted.TYPE);
    assertThat(UUID.fromString(TopicProbe.header(event, CloudEventHeaders.ID))).isNotNull();
    assertThat(TopicProbe.header(event, CloudEventHeaders.SOURCE)).isEqualTo("/aiq-circles/ingest");
    assertThat(TopicProbe.header(event, CloudEventHeaders.SPEC_VERSION)).isEqualTo("1.0");
    assertThat(TopicProbe.header(event, CloudEventHeaders.SUBJECT)).isEqualTo(image.imageId());
    assertThat(Instant.parse(TopicProbe.header(event, CloudEventHeaders.TIME))).isAfterOrEqualTo(before.minusSeconds(1));
    assertThat(TopicProbe.header(event, CloudEventHeaders.TRACEPARENT)).matches("00-[0-9a-f]{32}-[0-9a-f]{16}-01");
    ImageSubmitted payload = ImageSubmitted.fromJson(Buffer.buffer(event.value()));
    assertThat(payload.jobId()).isEqualTo(reply.jobId());
    assertThat(payload.imageId()).isEqualTo(image.imageId());
    assertThat(payload.storageRef()).isEqualTo(ImageStore.refFor(image.imageId(), "png"));
    assertThat(payload.contentType()).isEqualTo("image/png");
    assertThat(payload.width()).isEqualTo(image.width());
    assertThat(payload.height()).isEqualTo(image.height());
    assertThat(payload.submittedAt()).isBetween(before.minusSeconds(1), Instant.now());
  }

  @Test
  void the_same_bytes_again_are_answered_with_the_existing_job_and_publish_nothing() throws Exception {
    SubmitImage image = newImage(false);
    Submission first = bed.submit(image);

    Submission second = bed.submit(again(image, false));

    assertThat(second.newJob()).isFalse();
    assertThat(second.jobId()).isEqualTo(first.jobId());
    assertThat(second.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(bed.jobsOf(image.imageId())).hasSize(1);
    assertThat(eventsOfImage(image)).hasSize(1);
  }

  @Test
  void the_same_bytes_with_reprocess_get_a_new_job_and_a_new_event() throws Exception {
    SubmitImage image = newImage(false);
    Submission first = bed.submit(image);

    Submission again = bed.submit(again(image, true));

    assertThat(again.newJob()).isTrue();
    assertThat(again.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(again.jobId()).isNotEqualTo(first.jobId());
    assertThat(bed.jobsOf(image.imageId())).extracting(j -> j.get("job_id").toString())
        .containsExactly(first.jobId(), again.jobId());
    assertThat(eventsOfImage(image)).extracting(r -> new JsonObject(r.value()).getString("jobId"))
        .containsExactlyInAnyOrder(first.jobId(), again.jobId());
  }

  @Test
  void eight_simultaneous_uploads_of_the_same_new_bytes_make_one_job_and_one_event() throws Exception {
    SubmitImage image = newImage(false);
    List<Future<Message<Object>>> replies = new ArrayList<>();

    for (int i = 0; i < 8; i++) {
      replies.add(bed.send(again(image, false)));
    }

    List<Submission> answers = new ArrayList<>();
    for (Future<Message<Object>> r : replies) {
      answers.add(Submission.fromJson((JsonObject) r.await(30, TimeUnit.SECONDS).body()));
    }
    assertThat(answers).extracting(Submission::jobId).containsOnly(answers.get(0).jobId());
    assertThat(answers).filteredOn(Submission::newJob).hasSize(1);
    assertThat(bed.jobsOf(image.imageId())).hasSize(1);
    assertThat(eventsOfImage(image)).hasSize(1);
  }

  private static List<ConsumerRecord<String, String>> eventsOfImage(SubmitImage image) {
    return recordsNow(topics.imagesSubmitted()).stream().filter(r -> image.imageId().equals(r.key())).toList();
  }
}
