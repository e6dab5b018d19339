package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/**
 * GET /jobs?status&imageId&cursor&limit, to the queries role. {@code status} (a JobStatus wire value)
 * and {@code imageId} are null when not filtered on; {@code cursor} null for the first page. The
 * gateway has checked status, image id and limit; the queries role checks the cursor.
 */
public record JobsQuery(String status, String imageId, String cursor, int limit) {
  public JsonObject toJson() {
    return new JsonObject().put("status", status).put("imageId", imageId).put("cursor", cursor).put("limit", limit);
  }

  public static JobsQuery fromJson(JsonObject j) {
    return new JobsQuery(j.getString("status"), j.getString("imageId"), j.getString("cursor"), j.getInteger("limit"));
  }
}
