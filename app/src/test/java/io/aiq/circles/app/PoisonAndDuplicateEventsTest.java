package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Records no retry can mend go to the dead-letter topic with headers that say why and where they
 * came from, and the consumers keep going; events delivered twice change nothing the second time.
 */
class PoisonAndDuplicateEventsTest {
  private static RunningApp sys;
  private static Topics topics;

  @BeforeAll
  static void start() {
    sys = RunningApp.start();
    topics = sys.app.config().kafka().topics();
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void an_unreadable_image_submitted_event_is_dead_lettered_and_inference_goes_on() {
    RecordMetadata sent = TopicProbe.send(topics.imagesSubmitted(), "k-" + UUID.randomUUID(), "this is not json");

    ConsumerRecord<String, String> dead = deadLetterFor(sent);

    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo("invalid_event");
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_TOPIC)).isEqualTo(topics.imagesSubmitted());
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_GROUP)).endsWith("-inference");
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_MESSAGE)).isNotBlank();
    assertThat(dead.value()).isEqualTo("this is not json");
    assertPipelineStillWorks();
  }

  @Test
  void a_result_for_an_unknown_job_is_dead_lettered_and_results_go_on() {
    String jobId = UUID.randomUUID().toString();
    DetectionsCompleted event = new DetectionsCompleted(jobId, "ab".repeat(32), "dummy", "1",
        List.of(new Detection(new BoundingBox(1, 1, 5, 5), 0.5)), 3, Instant.now());
    RecordMetadata sent = TopicProbe.send(topics.detectionsCompleted(), "ab".repeat(32), event.toJson().encode());

    ConsumerRecord<String, String> dead = deadLetterFor(sent);

    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo("unknown_job");
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_GROUP)).endsWith("-results");
    assertThat(sys.count("SELECT count(*) FROM detections WHERE job_id = '" + jobId + "'")).isZero();
    assertPipelineStillWorks();
  }

  @Test
  void a_malformed_result_event_is_dead_lettered() {
    RecordMetadata sent = TopicProbe.send(topics.detectionsFailed(), "x",
        new JsonObject().put("schemaVersion", 1).put("jobId", "not-a-uuid").put("reason", "x")
            .put("failedAt", Instant.now().toString()).encode());

    assertThat(TopicProbe.header(deadLetterFor(sent), CloudEventHeaders.DLQ_REASON)).isEqualTo("invalid_event");
    assertPipelineStillWorks();
  }

  @Test
  void a_result_delivered_twice_leaves_one_set_of_detections_and_the_first_outcome() {
    JsonObject accepted = sys.api.upload(TestImages.discs(150, 100, "png", 61), "d.png", "image/png").bodyAsJsonObject();
    String jobId = accepted.getString("jobId");
    String imageId = accepted.getString("imageId");
    JsonObject done = sys.api.awaitJob(jobId, Duration.ofSeconds(30));

    // the same job answered again, with other boxes (a redelivery to a non-deterministic model)
    DetectionsCompleted replay = new DetectionsCompleted(jobId, imageId, "other", "9",
        List.of(new Detection(new BoundingBox(0, 0, 10, 10), 0.4), new Detection(new BoundingBox(5, 5, 9, 9), 0.3),
            new Detection(new BoundingBox(1, 1, 2, 2), 0.2), new Detection(new BoundingBox(3, 3, 4, 4), 0.1)),
        1, Instant.now());
    RecordMetadata sent = TopicProbe.send(topics.detectionsCompleted(), imageId, replay.toJson().encode());
    awaitConsumed(sent);

    JsonObject after = sys.api.get("/jobs/" + jobId).bodyAsJsonObject();
    assertThat(after.getString("status")).isEqualTo("succeeded");
    assertThat(after.getJsonObject("model").getString("name")).isEqualTo("dummy");
    assertThat(after.getString("finishedAt")).isEqualTo(done.getString("finishedAt"));
    assertThat(sys.count("SELECT count(*) FROM detections WHERE job_id = '" + jobId + "'")).isEqualTo(3);
    assertThat(sys.api.get("/images/" + imageId + "/objects").bodyAsJsonObject().getJsonArray("objects")).hasSize(3);
  }

  /** Waits until the results consumer committed past a record, i.e. applied it. */
  private static void awaitConsumed(RecordMetadata sent) {
    TopicProbe.awaitCommittedPast(sys.app.config().kafka().group("results"), sent.topic(), sent.partition(),
        sent.offset(), Duration.ofSeconds(30));
  }

  private static ConsumerRecord<String, String> deadLetterFor(RecordMetadata sent) {
    return TopicProbe.await(topics.deadLetter(), 1,
        r -> String.valueOf(sent.offset()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_OFFSET))
            && sent.topic().equals(TopicProbe.header(r, CloudEventHeaders.DLQ_TOPIC))
            && String.valueOf(sent.partition()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_PARTITION)),
        Duration.ofSeconds(30)).get(0);
  }

  private static void assertPipelineStillWorks() {
    byte[] fresh = TestImages.discs(100 + (int) (Math.random() * 400), 100, "png", (int) (Math.random() * 1000));
    JsonObject accepted = sys.api.upload(fresh, "f.png", "image/png").bodyAsJsonObject();
    assertThat(sys.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(30)).getString("status"))
        .isEqualTo("succeeded");
  }
}
