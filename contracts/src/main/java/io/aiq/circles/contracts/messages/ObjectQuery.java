package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/** GET /images/{imageId}/objects/{objectId}, to the results role. */
public record ObjectQuery(String imageId, int objectId) {
  public JsonObject toJson() {
    return new JsonObject().put("imageId", imageId).put("objectId", objectId);
  }

  public static ObjectQuery fromJson(JsonObject j) {
    return new ObjectQuery(j.getString("imageId"), j.getInteger("objectId"));
  }
}
