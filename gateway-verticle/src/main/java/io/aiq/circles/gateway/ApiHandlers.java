package io.aiq.circles.gateway;

import static io.aiq.circles.contracts.EventBusAddresses.*;

import io.aiq.circles.contracts.ApiLinks;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.messages.DeleteImage;
import io.aiq.circles.contracts.messages.ImageQuery;
import io.aiq.circles.contracts.messages.ImagesQuery;
import io.aiq.circles.contracts.messages.JobQuery;
import io.aiq.circles.contracts.messages.ObjectQuery;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.contracts.messages.Submission;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.images.UploadRejected;
import io.aiq.circles.images.UploadValidator;
import io.aiq.circles.images.ValidatedImage;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.DeliveryOptions;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API's handlers. The gateway validates what it can alone (ids, the upload itself), then asks the
 * ingest or results role over the event bus and relays the answer.
 */
final class ApiHandlers {
  private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern PREFER_WAIT = Pattern.compile("(?:^|[,;\\s])wait\\s*=\\s*(\\d{1,6})(?:$|[,;\\s])");
  private static final int MAX_PAGE = 100;

  private final Vertx vertx;
  private final AppConfig.Http http;
  private final UploadReceiver receiver;
  private final UploadValidator validator;
  private final MeterRegistry registry;

  private final Admission admission;
  private final AppConfig.Webhooks webhooks;

  ApiHandlers(Vertx vertx, AppConfig config, Admission admission, MeterRegistry registry) {
    this.vertx = vertx;
    this.http = config.http();
    this.admission = admission;
    this.receiver = new UploadReceiver(vertx, config.upload().maxBytes(), config.upload().timeoutMs(), admission);
    this.validator = new UploadValidator(config.upload().maxPixels());
    this.registry = registry;
    this.webhooks = config.webhooks();
  }

  // ---- POST /images ----------------------------------------------------------------------------

  void upload(RoutingContext ctx) {
    boolean reprocess = "true".equalsIgnoreCase(ctx.request().getParam("reprocess"));
    int waitSeconds = preferredWait(ctx);
    Admission.Refusal full = admission.checkBacklog();
    if (full != null) {
      // before a byte of the body is read: a refusal costs the gateway nothing
      count("refused", new UploadRejected(ErrorCode.UNAVAILABLE, full.message()));
      registry.counter("aiq_admission_refused_total", "reason", "backlog").increment();
      ctx.response().putHeader("Retry-After", String.valueOf(full.retryAfterSeconds()));
      ApiResponses.refuse(ctx, ErrorCode.UNAVAILABLE, full.message());
      return;
    }
    UploadReceiver.Body[] held = new UploadReceiver.Body[1];
    receiver.receive(ctx.request())
        // hashing and header parsing cost up to milliseconds for large files: off the event loop
        .compose(body -> {
          held[0] = body;
          // the callback's host is resolved here too, a blocking lookup (CallbackUrl)
          return vertx.executeBlocking(() -> {
            String callbackUrl = CallbackUrl.checked(ctx.request().getParam(CallbackUrl.PARAM), body.callbackUrl(),
                webhooks);
            return new Upload(validator.validate(body.bytes()), body.buffer(), callbackUrl);
          }, false);
        })
        .compose(upload -> submit(upload, reprocess))
        .compose(submission -> waitSeconds > 0 && submission.newJob()
            ? awaitJob(submission, waitSeconds) : Future.succeededFuture(new Answer(submission, null, false)))
        .onComplete(ar -> {
          if (held[0] != null) {
            held[0].release();
          }
        })
        .onSuccess(answer -> respondToUpload(ctx, answer, waitSeconds))
        .onFailure(e -> {
          count("rejected", e);
          if (e instanceof UploadRejected r && r.code() == ErrorCode.UNAVAILABLE) {
            registry.counter("aiq_admission_refused_total", "reason", "memory").increment();
            ctx.response().putHeader("Retry-After", "1");
          }
          ApiResponses.failure(ctx, e);
          if (e instanceof UploadRejected r && (r.code() == ErrorCode.PAYLOAD_TOO_LARGE
              || r.code() == ErrorCode.REQUEST_TIMEOUT || r.code() == ErrorCode.BAD_REQUEST
              || r.code() == ErrorCode.UNAVAILABLE)) {
            ApiResponses.discardRestOfBody(ctx);
          }
        });
  }

  /** @param callbackUrl the checked webhook URL, or null */
  private record Upload(ValidatedImage image, Buffer bytes, String callbackUrl) {
  }

  /** @param waitApplied the results role held the answer as asked (it may refuse: too many waiters) */
  private record Answer(Submission submission, JsonObject job, boolean waitApplied) {
  }

  private Future<Submission> submit(Upload upload, boolean reprocess) {
    ValidatedImage img = upload.image();
    SubmitImage message = new SubmitImage(img.sha256(), img.format().wire(), img.format().contentType(), img.width(),
        img.height(), reprocess, upload.bytes(), upload.callbackUrl());
    return vertx.eventBus().<JsonObject>request(INGEST_SUBMIT, message.bytes(), message.options(http.backendTimeoutMs()))
        .map(reply -> Submission.fromJson(reply.body()));
  }

  private Future<Answer> awaitJob(Submission submission, int waitSeconds) {
    return requestJob(submission.jobId(), waitSeconds)
        .map(reply -> new Answer(submission, reply.body(), waitApplied(reply)));
  }

  private void respondToUpload(RoutingContext ctx, Answer answer, int waitSeconds) {
    Submission s = answer.submission();
    String jobId = s.jobId();
    String imageId = s.imageId();
    JsonObject links = ApiLinks.forJob(jobId, imageId);
    ctx.response().putHeader("Location", ApiLinks.job(jobId));
    if (waitSeconds > 0 && answer.waitApplied()) {
      ctx.response().putHeader("Preference-Applied", "wait=" + waitSeconds);
    }
    if (!s.newJob()) {
      count("duplicate", null);
      JsonObject body = ErrorCode.DUPLICATE_IMAGE.body("this image was uploaded before; its latest job is "
          + jobId + " (add ?reprocess=true to run inference again)")
          .put("jobId", jobId).put("imageId", imageId).put("status", s.status().wire()).put("links", links);
      ApiResponses.json(ctx, 409, body);
      return;
    }
    count("accepted", null);
    JsonObject job = answer.job();
    if (job != null && JobStatus.fromWire(job.getString("status")).terminal()) {
      ApiResponses.json(ctx, 200, job);
      return;
    }
    JsonObject body = new JsonObject().put("jobId", jobId).put("imageId", imageId)
        .put("status", job != null ? job.getString("status") : s.status().wire()).put("links", links);
    ApiResponses.json(ctx, 202, body);
  }

  private void count(String outcome, Throwable e) {
    String code = e instanceof UploadRejected r ? r.code().code() : e == null ? "none" : ErrorCode.fromFailure(e).code().code();
    registry.counter("aiq_uploads_total", "outcome", outcome, "error", code).increment();
  }

  // ---- queries ---------------------------------------------------------------------------------

  void job(RoutingContext ctx) {
    String jobId = ctx.pathParam("jobId");
    if (!isUuid(jobId)) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "job ids are UUIDs");
      return;
    }
    int wait = preferredWait(ctx);
    requestJob(jobId, wait).onSuccess(reply -> {
      if (wait > 0 && waitApplied(reply)) {
        ctx.response().putHeader("Preference-Applied", "wait=" + wait);
      }
      ApiResponses.json(ctx, 200, reply.body());
    }).onFailure(e -> ApiResponses.failure(ctx, e));
  }

  private static boolean waitApplied(Message<JsonObject> reply) {
    return !"false".equals(reply.headers().get(H_WAIT_APPLIED));
  }

  private Future<Message<JsonObject>> requestJob(String jobId, int waitSeconds) {
    long waitMillis = waitSeconds * 1000L;
    DeliveryOptions options = new DeliveryOptions().setSendTimeout(http.backendTimeoutMs() + waitMillis);
    return vertx.eventBus().<JsonObject>request(RESULTS_JOB, new JobQuery(jobId, waitMillis).toJson(), options);
  }

  void image(RoutingContext ctx) {
    String imageId = ctx.pathParam("imageId");
    if (!validImageId(ctx, imageId)) {
      return;
    }
    relay(ctx, RESULTS_IMAGE, new ImageQuery(imageId).toJson());
  }

  // ---- DELETE /images/{imageId} ------------------------------------------------------------------

  /**
   * Deletes the image with its jobs, detections and blob, in the ingest role (see ImageDeleter there):
   * 204, then 404; 409 {@code job_in_flight} while a job of the image is queued or processing.
   */
  void delete(RoutingContext ctx) {
    String imageId = ctx.pathParam("imageId");
    if (!validImageId(ctx, imageId)) {
      return;
    }
    vertx.eventBus().<JsonObject>request(INGEST_DELETE, new DeleteImage(imageId).toJson(),
            new DeliveryOptions().setSendTimeout(http.backendTimeoutMs()))
        .onSuccess(reply -> {
          if (!ctx.response().ended() && !ctx.response().closed()) {
            ctx.response().setStatusCode(204).end();
          }
        })
        .onFailure(e -> ApiResponses.failure(ctx, e));
  }

  void objects(RoutingContext ctx) {
    String imageId = ctx.pathParam("imageId");
    if (!validImageId(ctx, imageId)) {
      return;
    }
    relay(ctx, RESULTS_OBJECTS, new ImageQuery(imageId).toJson());
  }

  void object(RoutingContext ctx) {
    String imageId = ctx.pathParam("imageId");
    if (!validImageId(ctx, imageId)) {
      return;
    }
    String objectId = ctx.pathParam("objectId");
    if (!objectId.matches("\\d{1,9}")) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "object ids are whole numbers from 0");
      return;
    }
    relay(ctx, RESULTS_OBJECT, new ObjectQuery(imageId, Integer.parseInt(objectId)).toJson());
  }

  void images(RoutingContext ctx) {
    String limitParam = ctx.request().getParam("limit");
    int limit = 20;
    if (limitParam != null) {
      if (!limitParam.matches("\\d{1,4}") || Integer.parseInt(limitParam) < 1 || Integer.parseInt(limitParam) > MAX_PAGE) {
        ApiResponses.error(ctx, ErrorCode.BAD_REQUEST, "limit must be a whole number from 1 to " + MAX_PAGE);
        return;
      }
      limit = Integer.parseInt(limitParam);
    }
    relay(ctx, RESULTS_IMAGES, new ImagesQuery(limit, ctx.request().getParam("cursor")).toJson());
  }

  private void relay(RoutingContext ctx, String address, JsonObject query) {
    vertx.eventBus().<JsonObject>request(address, query, new DeliveryOptions().setSendTimeout(http.backendTimeoutMs()))
        .onSuccess(reply -> ApiResponses.json(ctx, 200, reply.body()))
        .onFailure(e -> ApiResponses.failure(ctx, e));
  }

  private static boolean validImageId(RoutingContext ctx, String imageId) {
    if (!IMAGE_ID.matcher(imageId).matches()) {
      ApiResponses.error(ctx, ErrorCode.INVALID_ID, "image ids are the SHA-256 of the image, 64 lower-case hex digits");
      return false;
    }
    return true;
  }

  private static boolean isUuid(String s) {
    if (s.length() != 36) {
      return false;
    }
    try {
      UUID.fromString(s);
      return true;
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  /** {@code Prefer: wait=N} (RFC 7240), capped by {@code http.max-wait-seconds}; 0 when absent. */
  private int preferredWait(RoutingContext ctx) {
    String prefer = ctx.request().getHeader("Prefer");
    if (prefer == null) {
      return 0;
    }
    Matcher m = PREFER_WAIT.matcher(prefer.toLowerCase(java.util.Locale.ROOT));
    return m.find() ? (int) Math.min(Long.parseLong(m.group(1)), http.maxWaitSeconds()) : 0;
  }
}
