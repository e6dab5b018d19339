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
  /**
   * Body: {@code IdempotencyClaim} (no answer). Reply: {@code {claimed: true}} when this request may
   * proceed, or {@code {claimed: false, answer}} with the stored answer to replay; failures
   * {@code idempotency_key_in_flight}, {@code idempotency_key_reused}, {@code unavailable}.
   */
  public static final String INGEST_IDEMPOTENCY_CLAIM = "aiq.ingest.idempotency.claim";
  /**
   * Body: {@code IdempotencyClaim} with the answer to keep, or without one to give the key up (the
   * request failed with a 5xx, a retry must be able to succeed). Reply: {@code {}}.
   */
  public static final String INGEST_IDEMPOTENCY_FINISH = "aiq.ingest.idempotency.finish";
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
  /** Body: {@code JobsQuery}. Reply: {items:[job JSON...], nextCursor}. */
  public static final String RESULTS_JOBS = "aiq.results.jobs";
  /** Body: {@code WatchJob}. Reply: the job JSON once its status changed, or when the wait is up. */
  public static final String RESULTS_JOB_WATCH = "aiq.results.job.watch";
  /**
   * Body: {@code CancelJob}. Reply: {@code {jobId, status}} once cancelled; failures {@code not_found},
   * {@code job_finished}, {@code unavailable}.
   */
  public static final String INGEST_CANCEL = "aiq.ingest.cancel";

  /**
   * On a {@link #RESULTS_JOB} reply: {@code false} when the wait asked for was not granted (too many
   * waiters), so the gateway does not answer {@code Preference-Applied}.
   */
  public static final String H_WAIT_APPLIED = "waitApplied";

  private EventBusAddresses() {
  }
}
