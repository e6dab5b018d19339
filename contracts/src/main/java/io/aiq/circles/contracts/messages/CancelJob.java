package io.aiq.circles.contracts.messages;

import io.vertx.core.json.JsonObject;

/**
 * DELETE /jobs/{jobId}, from the gateway to ingest
 * ({@link io.aiq.circles.contracts.EventBusAddresses#INGEST_CANCEL}). Answered with
 * {@code {jobId, status: "cancelled"}} once the job is cancelled (also when it was before; the
 * gateway then answers with the job as the queries role reads it), or failed with {@code not_found},
 * {@code job_finished} or {@code unavailable}.
 */
public record CancelJob(String jobId) {
  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId);
  }

  public static CancelJob fromJson(JsonObject j) {
    return new CancelJob(j.getString("jobId"));
  }
}
