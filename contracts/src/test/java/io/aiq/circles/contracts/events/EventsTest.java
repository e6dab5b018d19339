package io.aiq.circles.contracts.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The events' JSON is the contract with outside consumers: it round-trips, and bad JSON is refused. */
class EventsTest {
  private static final Instant T = Instant.parse("2026-01-02T03:04:05.678Z");

  @Test
  void image_submitted_round_trips_with_its_schema_version() {
    ImageSubmitted e = new ImageSubmitted("j", "i", "ab/cd/x.jpg", "image/jpeg", 640, 480, T);
    JsonObject json = e.toJson();

    assertThat(json.getInteger("schemaVersion")).isEqualTo(1);
    assertThat(json.getString("submittedAt")).isEqualTo("2026-01-02T03:04:05.678Z");
    assertThat(ImageSubmitted.fromJson(json.toBuffer())).isEqualTo(e);
  }

  @Test
  void detections_completed_round_trips_with_its_detections() {
    DetectionsCompleted e = new DetectionsCompleted("j", "i", "m", "v",
        List.of(new Detection(new BoundingBox(1, 2, 30, 40), 0.9)), 12, T);

    DetectionsCompleted back = DetectionsCompleted.fromJson(e.toJson().toBuffer());

    assertThat(back).isEqualTo(e);
    assertThat(e.toJson().getJsonArray("detections").getJsonObject(0).getJsonArray("bbox").getList())
        .containsExactly(1.0, 2.0, 30.0, 40.0);
  }

  @Test
  void detection_failed_and_started_round_trip() {
    DetectionFailed f = new DetectionFailed("j", "i", DetectionFailed.CORRUPT_IMAGE, "bad", T);
    DetectionStarted s = new DetectionStarted("j", "i", T);
    assertThat(DetectionFailed.fromJson(f.toJson().toBuffer())).isEqualTo(f);
    assertThat(DetectionStarted.fromJson(s.toJson().toBuffer())).isEqualTo(s);
  }

  @Test
  void image_deleted_round_trips_with_its_job_ids_and_reason() {
    ImageDeleted e = new ImageDeleted("i", List.of("j1", "j2"), ImageDeleted.RETENTION, T);
    JsonObject json = e.toJson();

    assertThat(json.getInteger("schemaVersion")).isEqualTo(1);
    assertThat(json.getJsonArray("jobIds").getList()).containsExactly("j1", "j2");
    assertThat(json.getString("reason")).isEqualTo("retention");
    assertThat(ImageDeleted.fromJson(json.toBuffer())).isEqualTo(e);
    assertThatThrownBy(() -> ImageDeleted.fromJson(json.copy().put("jobIds", "j1").toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("jobIds");
  }

  @Test
  void a_job_cancellation_names_the_job_and_its_image() {
    JobCancelled e = new JobCancelled("j", "i", T);
    JsonObject json = e.toJson();

    assertThat(json.getInteger("schemaVersion")).isEqualTo(1);
    assertThat(json.getString("cancelledAt")).isEqualTo(T.toString());
    assertThat(JobCancelled.fromJson(json.toBuffer())).isEqualTo(e);
    assertThatThrownBy(() -> JobCancelled.fromJson(json.copy().put("cancelledAt", "yesterday").toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("cancelledAt");
  }

  @Test
  void unreadable_events_are_invalid_with_a_reason() {
    assertThatThrownBy(() -> ImageSubmitted.fromJson(Buffer.buffer("not json")))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("not a JSON object");
    assertThatThrownBy(() -> ImageSubmitted.fromJson(Buffer.buffer("[1,2]")))
        .isInstanceOf(InvalidEventException.class);
    assertThatThrownBy(() -> ImageSubmitted.fromJson(null)).isInstanceOf(InvalidEventException.class);
  }

  @Test
  void a_missing_field_or_another_schema_version_is_invalid() {
    JsonObject ok = new ImageSubmitted("j", "i", "r", "image/png", 1, 1, T).toJson();
    assertThatThrownBy(() -> ImageSubmitted.fromJson(ok.copy().put("schemaVersion", 2).toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("schemaVersion");
    JsonObject noJob = ok.copy();
    noJob.remove("jobId");
    assertThatThrownBy(() -> ImageSubmitted.fromJson(noJob.toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("jobId");
    assertThatThrownBy(() -> ImageSubmitted.fromJson(ok.copy().put("width", "wide").toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("width");
    assertThatThrownBy(() -> ImageSubmitted.fromJson(ok.copy().put("submittedAt", "yesterday").toBuffer()))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("submittedAt");
  }

  @Test
  void a_detection_with_an_inverted_box_or_a_score_out_of_range_is_invalid() {
    JsonObject e = new DetectionsCompleted("j", "i", "m", "v", List.of(), 1, T).toJson();
    e.getJsonArray("detections").add(new JsonObject().put("bbox", new io.vertx.core.json.JsonArray(List.of(5, 5, 1, 1)))
        .put("score", 0.5));
    assertThatThrownBy(() -> DetectionsCompleted.fromJson(e.toBuffer())).isInstanceOf(InvalidEventException.class)
        .hasMessageContaining("detections[0]");
    JsonObject s = new DetectionsCompleted("j", "i", "m", "v", List.of(), 1, T).toJson();
    s.getJsonArray("detections").add(new JsonObject().put("bbox", new io.vertx.core.json.JsonArray(List.of(1, 1, 5, 5)))
        .put("score", 1.5));
    assertThatThrownBy(() -> DetectionsCompleted.fromJson(s.toBuffer())).isInstanceOf(InvalidEventException.class);
  }
}
