package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * A job was cancelled before it finished ({@code DELETE /jobs/{jobId}}): its row is
 * {@code cancelled}, and inference skips its {@code ImageSubmitted} if it has not run it yet.
 * Published by ingest on {@code aiq.jobs.cancelled}, keyed by image id like the other events, after
 * the row was updated. Delivery is at least once: a cancellation whose event was not acknowledged is
 * published again later, so a consumer may see it twice.
 */
public record JobCancelled(String jobId, String imageId, Instant cancelledAt) {

  public static final String TYPE = "io.aiq.circles.job.cancelled";

  public JsonObject toJson() {
    return EventJson.base().put("jobId", jobId).put("imageId", imageId).put("cancelledAt", cancelledAt.toString());
  }

  public static JobCancelled fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    return new JobCancelled(EventJson.string(j, "jobId"), EventJson.string(j, "imageId"),
        EventJson.instant(j, "cancelledAt"));
  }
}
