package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/** GET /images/{imageId} and GET /images/{imageId}/objects, to the results role. */
public record ImageQuery(String imageId) {
  public JsonObject toJson() {
    return new JsonObject().put("imageId", imageId);
  }

  public static ImageQuery fromJson(JsonObject j) {
    return new ImageQuery(j.getString("imageId"));
  }
}
