package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import java.time.Instant;
import java.util.UUID;

/**
 * A job the sweeper claimed: to republish ({@code submissions} already counts it), or, when
 * {@code giveUp}, to fail because it was submitted as often as allowed.
 */
public record StuckJob(UUID jobId, String imageId, JobStatus status, int submissions, Instant createdAt,
                       String storageRef, String contentType, int width, int height, boolean giveUp) {
}
