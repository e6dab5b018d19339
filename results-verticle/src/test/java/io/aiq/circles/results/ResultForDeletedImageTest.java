package io.aiq.circles.results;

import static io.aiq.circles.results.ResultsTestbed.WITHIN;
import static io.aiq.circles.results.ResultsTestbed.detections;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.persistence.DeletionRepository;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TopicProbe;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A result that arrives after its image was deleted (a redelivery, a job the sweeper had republished
 * and that was answered twice) finds no job row: the results writer skips it and commits, rather
 * than dead-lettering it as a result for an unknown job or retrying it, and the records behind it on
 * its partition are applied. The deletion is the ingest role's own first step (its rows'
 * transaction), through the repository it uses.
 */
class ResultForDeletedImageTest {
  private static final List<Detection> ONE = detections(10, 20, 50, 40, 0.9);

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
  void a_result_for_a_job_deleted_with_its_image_is_skipped_and_committed_and_the_records_behind_it_are_applied()
      throws Exception {
    String deletedImage = bed.insertImage();
    UUID deletedJob = bed.insertSucceededJob(deletedImage, ONE);
    UUID otherDeletedJob = bed.insertSucceededJob(deletedImage, ONE);
    new DeletionRepository(bed.pool).deleteRequested(deletedImage, ImageDeleted.REQUEST).await(30, TimeUnit.SECONDS);
    String liveImage = bed.insertImage();
    UUID liveSucceeds = bed.insertQueuedJob(liveImage);
    UUID liveFails = bed.insertQueuedJob(liveImage);

    // each late result, then a live one on the same topic and key (so the same partition, behind it)
    RecordMetadata lateCompleted = bed.publish(bed.topics.detectionsCompleted(), deletedImage,
        new DetectionsCompleted(deletedJob.toString(), deletedImage, "circles", "7", ONE, 5, Instant.now())
            .toJson().encode());
    RecordMetadata liveCompleted = bed.publish(bed.topics.detectionsCompleted(), deletedImage,
        new DetectionsCompleted(liveSucceeds.toString(), liveImage, "circles", "7", ONE, 5, Instant.now())
            .toJson().encode());
    RecordMetadata lateFailed = bed.publish(bed.topics.detectionsFailed(), deletedImage,
        new DetectionFailed(otherDeletedJob.toString(), deletedImage, DetectionFailed.MODEL_ERROR, "late",
            Instant.now()).toJson().encode());
    RecordMetadata liveFailed = bed.publish(bed.topics.detectionsFailed(), deletedImage,
        new DetectionFailed(liveFails.toString(), liveImage, DetectionFailed.MODEL_ERROR, "boom", Instant.now())
            .toJson().encode());

    bed.awaitJob(liveSucceeds, j -> "succeeded".equals(j.get("status")));
    bed.awaitJob(liveFails, j -> "failed".equals(j.get("status")));
    bed.awaitHandled(liveCompleted);
    bed.awaitHandled(liveFailed);

    // committed past: a dead letter of the late results would have been acknowledged by now
    assertThat(deadLettersOf(lateCompleted)).isEmpty();
    assertThat(deadLettersOf(lateFailed)).isEmpty();
    assertThat(bed.rows("SELECT * FROM jobs WHERE job_id = ?", deletedJob)).isEmpty();
    assertThat(bed.rows("SELECT * FROM jobs WHERE job_id = ?", otherDeletedJob)).isEmpty();
    assertThat(bed.detectionRows(deletedJob)).isEmpty();
    assertThat(bed.detectionRows(liveSucceeds)).hasSize(1);
  }

  @Test
  void a_result_for_a_job_that_never_existed_is_still_dead_lettered_as_unknown_job() throws Exception {
    String imageId = bed.insertImage();
    UUID next = bed.insertQueuedJob(imageId);
    RecordMetadata unknown = bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(UUID.randomUUID().toString(), imageId, "circles", "7", ONE, 5, Instant.now())
            .toJson().encode());
    RecordMetadata behind = bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(next.toString(), imageId, "circles", "7", ONE, 5, Instant.now()).toJson().encode());

    bed.awaitHandled(behind);

    assertThat(deadLettersOf(unknown)).singleElement()
        .satisfies(d -> assertThat(TopicProbe.header(d, CloudEventHeaders.DLQ_REASON)).isEqualTo("unknown_job"));
  }

  /** The dead letters of this record now on the topic: its origin is in their headers. */
  private static List<ConsumerRecord<String, String>> deadLettersOf(RecordMetadata sent) {
    return recordsNow(bed.topics.deadLetter()).stream()
        .filter(r -> sent.topic().equals(TopicProbe.header(r, CloudEventHeaders.DLQ_TOPIC))
            && String.valueOf(sent.partition()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_PARTITION))
            && String.valueOf(sent.offset()).equals(TopicProbe.header(r, CloudEventHeaders.DLQ_OFFSET)))
        .toList();
  }

  /** Every record on the topic now, from the start to this moment's end offsets. */
  private static List<ConsumerRecord<String, String>> recordsNow(String topic) {
    return TopicProbe.recordsNow(topic, WITHIN);
  }
}
