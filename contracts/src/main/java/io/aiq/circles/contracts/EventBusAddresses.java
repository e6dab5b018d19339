package io.aiq.circles.contracts;

/**
 * Event-bus addresses between the HTTP gateway and the ingest and results roles. Each request is a
 * typed message of {@code io.aiq.circles.contracts.messages} with one {@code toJson}/{@code fromJson}
 * (or {@code options}/{@code fromMessage}) pair; failures are replied with
 * {@link ErrorCode#asReply}, which {@link ErrorCode#fromFailure} reads back as the HTTP error.
 */
public final class EventBusAddresses {
  /** Body: {@code SubmitImage} (the bytes, headers). Reply: {@code Submission}. */
  public static final String INGEST_SUBMIT = "aiq.ingest.submit";
  /**
   * Body: {@code DeleteImage}. Reply: {@code {imageId}} once the image's rows, blob and event are
   * done; failures {@code not_found}, {@code job_in_flight}, {@code unavailable}.
   */
  public static final String INGEST_DELETE = "aiq.ingest.delete";
  /** Body: {@code JobQuery}. Reply: the job JSON. */
  public static final String RESULTS_JOB = "aiq.results.job";
  /** Body: {@code ImageQuery}. Reply: the image JSON. */
  public static final String RESULTS_IMAGE = "aiq.results.image";
  /** Body: {@code ImageQuery}. Reply: {imageId, jobId, objects:[{object_id, bbox}]}. */
  public static final String RESULTS_OBJECTS = "aiq.results.objects";
  /** Body: {@code ObjectQuery}. Reply: one detection with centroid and radius. */
  public static final String RESULTS_OBJECT = "aiq.results.object";
  /** Body: {@code ImagesQuery}. Reply: {items:[...], nextCursor}. */
  public static final String RESULTS_IMAGES = "aiq.results.images";

  /**
   * On a {@link #RESULTS_JOB} reply: {@code false} when the wait asked for was not granted (too many
   * waiters), so the gateway does not answer {@code Preference-Applied}.
   */
  public static final String H_WAIT_APPLIED = "waitApplied";

  private EventBusAddresses() {
  }
}
