package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/** GET /images?limit&cursor, to the results role; {@code cursor} null for the first page. */
public record ImagesQuery(int limit, String cursor) {
  public JsonObject toJson() {
    JsonObject j = new JsonObject().put("limit", limit);
    if (cursor != null) {
      j.put("cursor", cursor);
    }
    return j;
  }

  public static ImagesQuery fromJson(JsonObject j) {
    return new ImagesQuery(j.getInteger("limit"), j.getString("cursor"));
  }
}
