package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import java.time.Instant;
import java.util.UUID;

/**
 * The outcome of an upload: the job the client should follow. {@code newJob} says whether this call
 * created it (and so must publish its ImageSubmitted); {@code duplicate} whether the image was
 * already known. {@code restoreBlob}: this upload created the image's row while a deletion of the same
 * id was recorded, which may have removed the blob the upload had just stored: the upload stores it
 * again before publishing.
 */
public record Submission(UUID jobId, String imageId, JobStatus status, boolean newJob, boolean duplicate,
                         String storageRef, String contentType, int width, int height, Instant submittedAt,
                         boolean restoreBlob) {

  public Submission(UUID jobId, String imageId, JobStatus status, boolean newJob, boolean duplicate,
                    String storageRef, String contentType, int width, int height, Instant submittedAt) {
    this(jobId, imageId, status, newJob, duplicate, storageRef, contentType, width, height, submittedAt, false);
  }

  Submission withRestoreBlob(boolean restore) {
    return new Submission(jobId, imageId, status, newJob, duplicate, storageRef, contentType, width, height,
        submittedAt, restore);
  }
}
