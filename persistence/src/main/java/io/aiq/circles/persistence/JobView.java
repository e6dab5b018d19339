package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.UUID;

/**
 * A job as stored.
 *
 * @param webhook its callback and delivery state; null without a callback, or when the query did not
 *     read the delivery (see {@link WebhookView#from})
 */
public record JobView(UUID jobId, String imageId, JobStatus status, int submissions, String errorCode,
                      String errorMessage, String modelName, String modelVersion, Long inferenceMillis,
                      Integer detectionCount, Instant createdAt, Instant updatedAt, Instant startedAt,
                      Instant finishedAt, WebhookView webhook) {

  /** A job without a webhook. */
  public JobView(UUID jobId, String imageId, JobStatus status, int submissions, String errorCode,
                 String errorMessage, String modelName, String modelVersion, Long inferenceMillis,
                 Integer detectionCount, Instant createdAt, Instant updatedAt, Instant startedAt,
                 Instant finishedAt) {
    this(jobId, imageId, status, submissions, errorCode, errorMessage, modelName, modelVersion, inferenceMillis,
        detectionCount, createdAt, updatedAt, startedAt, finishedAt, null);
  }

  static JobView from(Row row) {
    return new JobView(row.getUUID("job_id"), row.getString("image_id"),
        JobStatus.fromWire(row.getString("status")), row.getInteger("submissions"),
        row.getString("error_code"), row.getString("error_message"), row.getString("model_name"),
        row.getString("model_version"), row.getLong("inference_ms"), row.getInteger("detection_count"),
        Rows.instant(row, "created_at"), Rows.instant(row, "updated_at"), Rows.instant(row, "started_at"),
        Rows.instant(row, "finished_at"), WebhookView.from(row));
  }
}
