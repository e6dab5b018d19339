package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/**
 * One step of GET /jobs/{jobId}/events, to the queries role
 * ({@link io.aiq.circles.contracts.EventBusAddresses#RESULTS_JOB_WATCH}): answered with the job's JSON
 * as soon as its status is no longer {@code seenStatus} (at once when {@code seenStatus} is null or
 * already differs), or as it is after {@code waitMillis}.
 */
public record WatchJob(String jobId, String seenStatus, long waitMillis) {
  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("seenStatus", seenStatus).put("waitMillis", waitMillis);
  }

  public static WatchJob fromJson(JsonObject j) {
    return new WatchJob(j.getString("jobId"), j.getString("seenStatus"), j.getLong("waitMillis", 0L));
  }
}
