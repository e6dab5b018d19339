package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.util.UUID;

/**
 * An image with its latest job, and the latest succeeded job whose detections are the image's
 * objects (null fields where there is none yet).
 */
public record ImageView(String imageId, String contentType, String format, int width, int height,
                        long sizeBytes, Instant createdAt, long seq, UUID latestJobId, JobStatus latestStatus,
                        UUID resultJobId, Integer objectCount, long jobCount) {

  static ImageView from(Row row) {
    String latest = row.getString("latest_status");
    return new ImageView(row.getString("image_id"), row.getString("content_type"), row.getString("format"),
        row.getInteger("width"), row.getInteger("height"), row.getLong("size_bytes"),
        Rows.instant(row, "created_at"), row.getLong("seq"), row.getUUID("latest_job_id"),
        latest == null ? null : JobStatus.fromWire(latest), row.getUUID("result_job_id"),
        row.getInteger("result_count"), row.getLong("job_count"));
  }
}
