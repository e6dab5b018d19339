package io.aiq.circles.contracts.messages;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.core.json.JsonObject;

/**
 * Ingest's answer to a {@link SubmitImage}: the job the image now has and its status.
 *
 * @param newJob false when the same bytes were uploaded before (the gateway answers 409 with that job)
 */
public record Submission(String jobId, String imageId, JobStatus status, boolean newJob) {
  public JsonObject toJson() {
    return new JsonObject().put("jobId", jobId).put("imageId", imageId).put("status", status.wire())
        .put("newJob", newJob);
  }

  public static Submission fromJson(JsonObject j) {
    return new Submission(j.getString("jobId"), j.getString("imageId"), JobStatus.fromWire(j.getString("status")),
        j.getBoolean("newJob", false));
  }
}
