package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** Inference took a job: the job moves from {@code queued} to {@code processing}. */
public record DetectionStarted(String jobId, String imageId, Instant startedAt) {

  public static final String TYPE = "io.aiq.circles.detection.started";

  public JsonObject toJson() {
    return EventJson.base().put("jobId", jobId).put("imageId", imageId).put("startedAt", startedAt.toString());
  }

  public static DetectionStarted fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    return new DetectionStarted(EventJson.string(j, "jobId"), EventJson.string(j, "imageId"),
        EventJson.instant(j, "startedAt"));
  }
}
