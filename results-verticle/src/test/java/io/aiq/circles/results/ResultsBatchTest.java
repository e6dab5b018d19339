package io.aiq.circles.results;

import static io.aiq.circles.results.ResultsTestbed.WITHIN;
import static io.aiq.circles.results.ResultsTestbed.detections;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.TopicProbe;
import io.aiq.circles.testing.KafkaFixture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * The results writer applying a polled batch of records in one transaction, on a real broker and
 * database. Each test publishes its records first, on one topic and one key (so one partition, in
 * order: records of several topics may come in separate polls), and only then starts the results
 * writer, so that its first poll takes them together as one batch. A record
 * the batch cannot take does not cost the others: when the database refuses the batch's transaction
 * because of one record, the batch is applied again one record at a time, which dead-letters that
 * record alone.
 */
class ResultsBatchTest {
  private static final List<Detection> TWO = detections(10, 20, 50, 40, 0.9, 100, 100, 140, 150, 0.8);

  private ResultsTestbed bed;

  @AfterEach
  void stop() throws Exception {
    if (bed != null) {
      bed.close();
    }
  }

  @Test
  void a_batch_with_a_record_the_database_refuses_gets_every_other_record_applied_and_that_one_dead_lettered()
      throws Exception {
    bed = new ResultsTestbed(null);
    String imageId = bed.insertImage();
    UUID before = bed.insertQueuedJob(imageId);
    UUID refused = bed.insertQueuedJob(imageId);
    UUID after = bed.insertQueuedJob(imageId);

    List<RecordMetadata> batch = List.of(completed(before, imageId, TWO),
        // valid JSON, a valid event, but PostgreSQL text cannot hold a NUL character
        bed.publish(bed.topics.detectionsCompleted(), imageId, new DetectionsCompleted(refused.toString(), imageId,
            "circles\u0000", "7", TWO, 5, Instant.now()).toJson().encode()),
        completed(after, imageId, TWO));
    bed.deployConsumer();
    bed.awaitHandled(batch.get(batch.size() - 1));

    assertThat(bed.job(before)).containsEntry("status", "succeeded");
    assertThat(bed.detectionRows(before)).hasSize(2);
    assertThat(bed.job(after)).containsEntry("status", "succeeded");
    assertThat(bed.detectionRows(after)).hasSize(2);
    // the refused record alone is dead-lettered, and its job ends failed now
    assertThat(deadLetters()).singleElement().satisfies(d -> {
      assertThat(origin(d)).isEqualTo(origin(batch.get(1)));
      assertThat(header(d, CloudEventHeaders.DLQ_REASON)).isEqualTo("rejected_by_database");
    });
    bed.awaitJob(refused, j -> "failed".equals(j.get("status")));
    assertThat(bed.job(refused)).containsEntry("error_code", DetectionFailed.PROCESSING_FAILED);
    assertThat(bed.detectionRows(refused)).isEmpty();
  }

  @Test
  void a_batch_with_a_record_for_an_unknown_job_gets_every_other_record_applied_and_that_one_dead_lettered()
      throws Exception {
    bed = new ResultsTestbed(null);
    String imageId = bed.insertImage();
    UUID before = bed.insertQueuedJob(imageId);
    UUID after = bed.insertQueuedJob(imageId);

    List<RecordMetadata> batch = List.of(
        completed(before, imageId, TWO), completed(UUID.randomUUID(), imageId, TWO), completed(after, imageId, TWO));
    bed.deployConsumer();
    bed.awaitHandled(batch.get(batch.size() - 1));

    assertThat(bed.job(before)).containsEntry("status", "succeeded");
    assertThat(bed.detectionRows(before)).hasSize(2);
    assertThat(bed.job(after)).containsEntry("status", "succeeded");
    assertThat(bed.detectionRows(after)).hasSize(2);
    assertThat(deadLetters()).singleElement().satisfies(d -> {
      assertThat(origin(d)).isEqualTo(origin(batch.get(1)));
      assertThat(header(d, CloudEventHeaders.DLQ_REASON)).isEqualTo("unknown_job");
    });
  }

  // ---- events, as the inference role publishes them -----------------------------------

  private RecordMetadata completed(UUID jobId, String imageId, List<Detection> detections) {
    return bed.publish(bed.topics.detectionsCompleted(), imageId,
        new DetectionsCompleted(jobId.toString(), imageId, "circles", "7", detections, 5, Instant.now()).toJson().encode());
  }

  // ---- the dead-letter topic -----------------------------------------------------------------------

  private static String origin(RecordMetadata sent) {
    return sent.topic() + "/" + sent.partition() + "@" + sent.offset();
  }

  private static String origin(ConsumerRecord<String, String> dead) {
    return header(dead, CloudEventHeaders.DLQ_TOPIC) + "/" + header(dead, CloudEventHeaders.DLQ_PARTITION) + "@"
        + header(dead, CloudEventHeaders.DLQ_OFFSET);
  }

  private static String header(ConsumerRecord<String, String> record, String name) {
    return io.aiq.circles.testing.TopicProbe.header(record, name);
  }

  /**
   * Every record on this test's dead-letter topic now. Called once the writer committed past the
   * batch: its dead letters were acknowledged before that commit.
   */
  private List<ConsumerRecord<String, String>> deadLetters() {
    return TopicProbe.recordsNow(bed.topics.deadLetter(), WITHIN);
  }
}
