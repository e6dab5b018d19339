package io.aiq.circles.contracts;

import java.util.List;

/**
 * The Kafka topics of the pipeline: the one place their names are spelled.
 *
 * <p>A deployment may prefix every name (for example to share a cluster between environments, or to
 * give each test its own topics); the suffixes below are the public contract for outside consumers.
 */
public record Topics(String imagesSubmitted, String detectionsStarted, String detectionsCompleted,
                     String detectionsFailed, String imagesDeleted, String jobsCancelled, String deadLetter) {

  public static final String IMAGES_SUBMITTED = "aiq.images.submitted";
  public static final String DETECTIONS_STARTED = "aiq.detections.started";
  public static final String DETECTIONS_COMPLETED = "aiq.detections.completed";
  public static final String DETECTIONS_FAILED = "aiq.detections.failed";
  /** An image, its jobs and detections were deleted (DELETE /images/{id} or retention). */
  public static final String IMAGES_DELETED = "aiq.images.deleted";
  /** A job was cancelled by a client before it finished (DELETE /jobs/{id}); inference skips it. */
  public static final String JOBS_CANCELLED = "aiq.jobs.cancelled";
  public static final String DEAD_LETTER = "aiq.dlq";

  public static Topics withPrefix(String prefix) {
    String p = prefix == null ? "" : prefix;
    return new Topics(p + IMAGES_SUBMITTED, p + DETECTIONS_STARTED, p + DETECTIONS_COMPLETED,
        p + DETECTIONS_FAILED, p + IMAGES_DELETED, p + JOBS_CANCELLED, p + DEAD_LETTER);
  }

  public List<String> all() {
    return List.of(imagesSubmitted, detectionsStarted, detectionsCompleted, detectionsFailed, imagesDeleted,
        jobsCancelled, deadLetter);
  }

  /** The topics the results role consumes. */
  public List<String> results() {
    return List.of(detectionsStarted, detectionsCompleted, detectionsFailed);
  }
}
