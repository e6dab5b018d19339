package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With tracing off (the default: no {@code tracing.otlp-endpoint}) there are no spans, yet every event
 * still carries one valid W3C {@code traceparent}, the same trace for one upload, so an outside
 * consumer can always correlate the events of a job.
 */
class UntracedEventsTest {
  static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = RunningApp.start();
    assertThat(sys.app.config().tracing().enabled()).isFalse();
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  @Test
  void each_event_of_an_upload_carries_one_valid_traceparent_of_one_trace() {
    String jobId = RunningApp.acceptedJob(sys.api.upload(TestImages.discs(256, 128, "png", 31), "off.png", "image/png"));
    assertThat(sys.api.awaitJob(jobId, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");

    Topics topics = sys.app.config().kafka().topics();
    Set<String> traces = new HashSet<>();
    List<String> spans = new ArrayList<>();
    for (String topic : List.of(topics.imagesSubmitted(), topics.detectionsStarted(), topics.detectionsCompleted())) {
      ConsumerRecord<String, String> record = TopicProbe.await(topic, 1, r -> r.value().contains(jobId),
          Duration.ofSeconds(10)).get(0);
      List<Header> traceparents = new ArrayList<>();
      record.headers().headers("traceparent").forEach(traceparents::add);
      assertThat(traceparents).as("one traceparent header on %s", topic).hasSize(1);
      String traceparent = TopicProbe.header(record, "traceparent");
      assertThat(traceparent).matches("00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-01");
      traces.add(traceparent.split("-")[1]);
      spans.add(traceparent.split("-")[2]);
    }
    assertThat(traces).as("one trace for the upload").hasSize(1);
    assertThat(spans.get(2)).as("inference's events are a step of their own, not the upload's").isNotEqualTo(spans.get(0));
  }
}
