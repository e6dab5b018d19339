package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/**
 * DELETE /images/{imageId}, from the gateway to ingest
 * ({@link io.aiq.circles.contracts.EventBusAddresses#INGEST_DELETE}). Answered with
 * {@code {imageId}} once the deletion is complete, or failed with {@code not_found},
 * {@code job_in_flight} or {@code unavailable}.
 */
public record DeleteImage(String imageId) {
  public JsonObject toJson() {
    return new JsonObject().put("imageId", imageId);
  }

  public static DeleteImage fromJson(JsonObject j) {
    return new DeleteImage(j.getString("imageId"));
  }
}
