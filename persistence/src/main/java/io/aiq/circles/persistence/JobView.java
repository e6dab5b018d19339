package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.UUID;

/** A job as stored. */
public record JobView(UUID jobId, String imageId, JobStatus status, int submissions, String errorCode,
                      String errorMessage, String modelName, String modelVersion, Long inferenceMillis,
                      Integer detectionCount, Instant createdAt, Instant updatedAt, Instant startedAt,
                      Instant finishedAt) {

  static JobView from(Row row) {
    return new JobView(row.getUUID("job_id"), row.getString("image_id"),
        JobStatus.fromWire(row.getString("status")), row.getInteger("submissions"),
        row.getString("error_code"), row.getString("error_message"), row.getString("model_name"),
        row.getString("model_version"), row.getLong("inference_ms"), row.getInteger("detection_count"),
        Rows.instant(row, "created_at"), Rows.instant(row, "updated_at"), Rows.instant(row, "started_at"),
        Rows.instant(row, "finished_at"));
  }
}
