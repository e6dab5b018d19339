package io.aiq.circles.watch;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** What a person watching reads for each kind of record. */
class EventLineTest {
  private static final String JOB = "0b0f2d4e-8c1a-4a5e-9d7f-2f3b1c6a9e10";
  private static final String IMAGE = "3f1c2b9a7d6e" + "0".repeat(52);
  private static final Instant T = Instant.parse("2026-01-02T03:04:06.120Z");

  private static Map<String, String> headers(String type) {
    return Map.of("ce_type", type, "ce_time", T.toString());
  }

  @Test
  void a_detections_event_names_its_job_image_model_count_and_boxes() {
    String value = new DetectionsCompleted(JOB, IMAGE, "circles", "5",
        List.of(new Detection(new BoundingBox(10, 12, 60, 62), 0.97), new Detection(new BoundingBox(100, 40, 150, 92), 0.42)),
        38, T).toJson().encode();

    String line = EventLine.format("aiq.detections.completed", IMAGE, headers(DetectionsCompleted.TYPE), value);

    assertThat(line).isEqualTo("2026-01-02T03:04:06.120Z detections     job=" + JOB + " image=3f1c2b9a7d6e…"
        + " model=circles:5 count=2 boxes=[10,12 50x50 0.97] [100,40 50x52 0.42] (38 ms)");
  }

  @Test
  void boxes_past_the_first_five_are_counted_not_listed() {
    List<Detection> many = new ArrayList<>();
    for (int i = 0; i < 8; i++) {
      many.add(new Detection(new BoundingBox(i, i, i + 10, i + 10), 0.9));
    }
    String value = new DetectionsCompleted(JOB, IMAGE, "dummy", "1", many, 1, T).toJson().encode();

    assertThat(EventLine.format("aiq.detections.completed", IMAGE, headers(DetectionsCompleted.TYPE), value))
        .contains("count=8").endsWith("+3 more (1 ms)");
  }

  @Test
  void an_image_without_detections_says_none() {
    String value = new DetectionsCompleted(JOB, IMAGE, "dummy", "1", List.of(), 0, T).toJson().encode();
    assertThat(EventLine.format("aiq.detections.completed", IMAGE, headers(DetectionsCompleted.TYPE), value))
        .contains("count=0 boxes=none");
  }

  @Test
  void a_failure_gives_its_reason_and_message() {
    String value = new DetectionFailed(JOB, IMAGE, DetectionFailed.CORRUPT_IMAGE, "not an image", T).toJson().encode();
    assertThat(EventLine.format("aiq.detections.failed", IMAGE, headers(DetectionFailed.TYPE), value))
        .contains("failed", "job=" + JOB, "reason=corrupt_image", "\"not an image\"");
  }

  @Test
  void a_dead_letter_is_described_by_its_headers_whatever_its_value() {
    String line = EventLine.format("aiq.dlq", "k", Map.of("aiq_dlq_reason", "invalid_event",
        "aiq_dlq_topic", "aiq.images.submitted", "aiq_dlq_partition", "2", "aiq_dlq_offset", "17",
        "aiq_dlq_consumer_group", "aiq-inference"), "this is not json");
    assertThat(line).contains("dead-letter", "reason=invalid_event", "from=aiq.images.submitted@2/17",
        "group=aiq-inference", "key=k");
  }

  @Test
  void a_value_that_is_not_json_is_reported_not_thrown() {
    assertThat(EventLine.format("aiq.detections.completed", "k", headers(DetectionsCompleted.TYPE), "{oops"))
        .contains("unreadable", "key=k");
  }

  @Test
  void an_event_type_this_version_does_not_know_is_still_shown() {
    assertThat(EventLine.format("aiq.something", "k", headers("io.aiq.circles.new.thing"), "{}"))
        .contains("io.aiq.circles.new.thing", "key=k");
  }
}
