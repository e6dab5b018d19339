package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/** An accepted upload waiting for inference. Published by ingest (and the sweeper), keyed by image id. */
public record ImageSubmitted(String jobId, String imageId, String storageRef, String contentType,
                             int width, int height, Instant submittedAt) {

  public static final String TYPE = "io.aiq.circles.image.submitted";

  public JsonObject toJson() {
    return EventJson.base().put("jobId", jobId).put("imageId", imageId).put("storageRef", storageRef)
        .put("contentType", contentType).put("width", width).put("height", height)
        .put("submittedAt", submittedAt.toString());
  }

  public static ImageSubmitted fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    return new ImageSubmitted(EventJson.string(j, "jobId"), EventJson.string(j, "imageId"),
        EventJson.string(j, "storageRef"), EventJson.string(j, "contentType"),
        (int) EventJson.number(j, "width"), (int) EventJson.number(j, "height"),
        EventJson.instant(j, "submittedAt"));
  }
}
