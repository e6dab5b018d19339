package io.aiq.circles.contracts.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/**
 * Each event's JSON Schema describes what its Java writer produces, and refuses what a consumer could
 * not read: missing fields, ids of the wrong form, scores outside [0, 1], times that are no instants.
 */
class EventSchemasTest {
  private static final String JOB = UUID.randomUUID().toString();
  private static final String IMAGE = "0123456789abcdef".repeat(4);
  private static final Instant T = Instant.parse("2026-01-02T03:04:05.678Z");
  private final EventSchemas schemas = EventSchemas.shared();

  private static DetectionsCompleted completed() {
    return new DetectionsCompleted(JOB, IMAGE, "circles", "5",
        List.of(new Detection(new BoundingBox(1, 2, 30, 40), 0.9), new Detection(new BoundingBox(5, 5, 9, 9), 0)),
        12, T);
  }

  @Test
  void what_each_writer_produces_conforms_to_its_current_schema() {
    assertThat(schemas.problems(ImageSubmitted.TYPE,
        new ImageSubmitted(JOB, IMAGE, "01/23/" + IMAGE + ".jpg", "image/jpeg", 640, 480, T).toJson())).isEmpty();
    assertThat(schemas.problems(DetectionStarted.TYPE, new DetectionStarted(JOB, IMAGE, T).toJson())).isEmpty();
    assertThat(schemas.problems(DetectionsCompleted.TYPE, completed().toJson())).isEmpty();
    assertThat(schemas.problems(DetectionFailed.TYPE,
        new DetectionFailed(JOB, IMAGE, DetectionFailed.CORRUPT_IMAGE, "bad", T).toJson())).isEmpty();
    assertThat(schemas.problems(ImageDeleted.TYPE,
        new ImageDeleted(IMAGE, List.of(JOB), ImageDeleted.REQUEST, T).toJson())).isEmpty();
    assertThat(schemas.problems(JobCancelled.TYPE, new JobCancelled(JOB, IMAGE, T).toJson())).isEmpty();
  }

  @Test
  void a_failure_whose_image_and_message_are_unknown_conforms() {
    assertThat(schemas.problems(DetectionFailed.TYPE,
        new DetectionFailed(JOB, null, DetectionFailed.NOT_PROCESSED, null, T).toJson())).isEmpty();
  }

  @Test
  void fields_a_version_does_not_know_are_tolerated() {
    JsonObject newer = new DetectionStarted(JOB, IMAGE, T).toJson().put("worker", "inference-7");
    assertThat(schemas.problems(DetectionStarted.TYPE, newer)).isEmpty();
  }

  @Test
  void a_missing_required_field_is_refused_by_name() {
    JsonObject json = completed().toJson();
    json.remove("modelVersion");
    assertThat(schemas.problems(DetectionsCompleted.TYPE, json)).singleElement().asString().contains("modelVersion");
  }

  @Test
  void an_image_id_that_is_not_64_hex_digits_is_refused() {
    JsonObject json = new DetectionStarted(JOB, "i", T).toJson();
    assertThat(schemas.problems(DetectionStarted.TYPE, json)).singleElement().asString().contains("imageId");
  }

  @Test
  void a_job_id_that_is_not_a_uuid_is_refused() {
    JsonObject json = new JobCancelled("job-1", IMAGE, T).toJson();
    // (its format and its pattern both say so: validators that treat format as a note still refuse it)
    assertThat(schemas.problems(JobCancelled.TYPE, json)).isNotEmpty().allMatch(p -> p.contains("jobId"));
  }

  @Test
  void a_score_outside_zero_to_one_is_refused() {
    JsonObject json = completed().toJson();
    json.getJsonArray("detections").getJsonObject(0).put("score", 1.5);
    assertThat(schemas.problems(DetectionsCompleted.TYPE, json)).singleElement().asString().contains("score");
  }

  @Test
  void a_box_without_four_numbers_is_refused() {
    JsonObject json = completed().toJson();
    json.getJsonArray("detections").getJsonObject(0).put("bbox", new JsonArray().add(1).add(2).add(3));
    assertThat(schemas.problems(DetectionsCompleted.TYPE, json)).isNotEmpty();
  }

  @Test
  void a_time_that_is_not_an_iso_instant_is_refused() {
    JsonObject json = new DetectionStarted(JOB, IMAGE, T).toJson().put("startedAt", "yesterday");
    assertThat(schemas.problems(DetectionStarted.TYPE, json)).singleElement().asString().contains("startedAt");
  }

  @Test
  void an_unknown_schema_version_is_refused() {
    JsonObject json = new DetectionStarted(JOB, IMAGE, T).toJson().put("schemaVersion", 99);
    assertThat(schemas.problems(DetectionStarted.TYPE, json)).isNotEmpty();
  }

  @Test
  void an_event_type_without_a_schema_is_refused() {
    assertThat(schemas.problems("io.aiq.circles.something.new", new JsonObject())).singleElement().asString()
        .contains("no JSON Schema");
  }

  @Test
  void require_valid_throws_an_invalid_event_exception_naming_the_problem() {
    JsonObject json = new JobCancelled(JOB, IMAGE, T).toJson();
    json.remove("cancelledAt");
    assertThatThrownBy(() -> schemas.requireValid(JobCancelled.TYPE, json))
        .isInstanceOf(InvalidEventException.class).hasMessageContaining("cancelledAt");
  }
}
