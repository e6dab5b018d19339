package io.aiq.circles.contracts;

/**
 * Event-bus addresses between the HTTP gateway and the ingest and results roles.
 *
 * <p>Requests carry JSON (or the image bytes for {@link #INGEST_SUBMIT}); failures are replied with
 * {@code message.fail(httpStatus, errorCode + ": " + message)} so the gateway can map them one to one
 * onto HTTP errors (see {@link ErrorCode#fromFailure}).
 */
public final class EventBusAddresses {
  /** Body: image bytes; headers: {@link #H_IMAGE_ID}, {@link #H_FORMAT}, ... Reply: the submission JSON. */
  public static final String INGEST_SUBMIT = "aiq.ingest.submit";
  /** Body: {jobId, waitMillis?}. Reply: the job JSON. */
  public static final String RESULTS_JOB = "aiq.results.job";
  /** Body: {imageId}. Reply: the image JSON. */
  public static final String RESULTS_IMAGE = "aiq.results.image";
  /** Body: {imageId}. Reply: {imageId, jobId, objects:[{object_id, bbox}]}. */
  public static final String RESULTS_OBJECTS = "aiq.results.objects";
  /** Body: {imageId, objectId}. Reply: one detection with centroid and radius. */
  public static final String RESULTS_OBJECT = "aiq.results.object";
  /** Body: {limit, cursor?}. Reply: {items:[...], nextCursor}. */
  public static final String RESULTS_IMAGES = "aiq.results.images";

  public static final String H_IMAGE_ID = "imageId";
  public static final String H_FORMAT = "format";
  public static final String H_CONTENT_TYPE = "contentType";
  public static final String H_WIDTH = "width";
  public static final String H_HEIGHT = "height";
  public static final String H_REPROCESS = "reprocess";
  /**
   * On a {@link #RESULTS_JOB} reply: {@code false} when the wait asked for was not granted (too many
   * waiters), so the gateway does not answer {@code Preference-Applied}.
   */
  public static final String H_WAIT_APPLIED = "waitApplied";

  private EventBusAddresses() {
  }
}
