package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A job that will not succeed: a corrupt image, a model error that outlived its retries, or a job the
 * sweeper gave up on. {@code reason} is a stable code, {@code message} a sentence for people.
 */
public record DetectionFailed(String jobId, String imageId, String reason, String message, Instant failedAt) {

  public static final String TYPE = "io.aiq.circles.detection.failed";

  /** Reason codes. */
  public static final String CORRUPT_IMAGE = "corrupt_image";
  public static final String IMAGE_MISSING = "image_missing";
  public static final String MODEL_ERROR = "model_error";
  public static final String NOT_PROCESSED = "not_processed";
  /** Its record failed {@code kafka.max-record-attempts} times in a consumer and was dead-lettered. */
  public static final String PROCESSING_FAILED = "processing_failed";

  public JsonObject toJson() {
    return EventJson.base().put("jobId", jobId).put("imageId", imageId).put("reason", reason)
        .put("message", message).put("failedAt", failedAt.toString());
  }

  public static DetectionFailed fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    Object image = j.getValue("imageId");
    Object message = j.getValue("message");
    return new DetectionFailed(EventJson.string(j, "jobId"), image instanceof String s ? s : null,
        EventJson.string(j, "reason"), message instanceof String m ? m : "",
        EventJson.instant(j, "failedAt"));
  }
}
