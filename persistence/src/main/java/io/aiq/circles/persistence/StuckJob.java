package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import java.time.Instant;
import java.util.UUID;

/** A job the sweeper claimed for republishing; {@code submissions} already counts this one. */
public record StuckJob(UUID jobId, String imageId, JobStatus status, int submissions, Instant createdAt,
                       String storageRef, String contentType, int width, int height) {
}
