package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import java.time.Instant;
import java.util.UUID;

/**
 * The outcome of an upload: the job the client should follow. {@code newJob} says whether this call
 * created it (and so must publish its ImageSubmitted); {@code duplicate} whether the image was
 * already known.
 */
public record Submission(UUID jobId, String imageId, JobStatus status, boolean newJob, boolean duplicate,
                         String storageRef, String contentType, int width, int height, Instant submittedAt) {
}
