package io.aiq.circles.contracts;

import io.vertx.core.json.JsonObject;

/** The API's paths, spelled once, for the {@code links} every answer carries and for Location. */
public final class ApiLinks {
  private ApiLinks() {
  }

  public static String job(Object jobId) {
    return "/jobs/" + jobId;
  }

  public static String image(String imageId) {
    return "/images/" + imageId;
  }

  public static String objects(String imageId) {
    return "/images/" + imageId + "/objects";
  }

  public static JsonObject forJob(Object jobId, String imageId) {
    return new JsonObject().put("job", job(jobId)).put("image", image(imageId)).put("objects", objects(imageId));
  }
}
