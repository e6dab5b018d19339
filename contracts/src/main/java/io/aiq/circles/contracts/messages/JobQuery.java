package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/** GET /jobs/{jobId}, to the results role: held up to {@code waitMillis} until the job is finished. */
public record JobQuery(String jobId, long waitMillis) {
  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("waitMillis", waitMillis);
  }

  public static JobQuery fromJson(JsonObject j) {
    return new JobQuery(j.getString("jobId"), j.getLong("waitMillis", 0L));
  }
}
