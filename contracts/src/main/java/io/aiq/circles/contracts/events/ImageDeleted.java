package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * An image is gone: its blob, its jobs and their detections were deleted, on a client's request
 * ({@code DELETE /images/{imageId}}) or by the retention sweep. Published by ingest on
 * {@code aiq.images.deleted}, keyed by image id, after the rows are deleted and the blob removed.
 * Delivery is at least once: a deletion interrupted before its event was acknowledged is finished
 * (and its event published) again later, so a consumer may see it twice.
 *
 * @param jobIds every job of the image that was deleted with it (possibly none)
 * @param reason {@link #REQUEST} or {@link #RETENTION}
 */
public record ImageDeleted(String imageId, List<String> jobIds, String reason, Instant deletedAt) {

  public static final String TYPE = "io.aiq.circles.image.deleted";

  /** Reasons. */
  public static final String REQUEST = "request";
  public static final String RETENTION = "retention";

  public ImageDeleted {
    jobIds = List.copyOf(jobIds);
  }

  public JsonObject toJson() {
    return EventJson.base().put("imageId", imageId).put("jobIds", new JsonArray(new ArrayList<>(jobIds)))
        .put("reason", reason).put("deletedAt", deletedAt.toString());
  }

  public static ImageDeleted fromJson(Buffer raw) {
    JsonObject j = EventJson.parse(raw, TYPE);
    Object arr = j.getValue("jobIds");
    if (!(arr instanceof JsonArray ids)) {
      throw new InvalidEventException("field 'jobIds' is missing or not an array");
    }
    List<String> jobIds = new ArrayList<>(ids.size());
    for (int i = 0; i < ids.size(); i++) {
      if (!(ids.getValue(i) instanceof String s)) {
        throw new InvalidEventException("jobIds[" + i + "] is not a string");
      }
      jobIds.add(s);
    }
    return new ImageDeleted(EventJson.string(j, "imageId"), jobIds, EventJson.string(j, "reason"),
        EventJson.instant(j, "deletedAt"));
  }
}
