package io.aiq.circles.gateway;

import static io.aiq.circles.contracts.EventBusAddresses.*;

import io.aiq.circles.contracts.ApiLinks;
import io.aiq.circles.contracts.ApiException;
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
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The API's handlers. The gateway validates what it can alone (ids, the upload itself), then asks the
 * ingest or results role over the event bus and relays the answer.
 */
final class ApiHandlers {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(ApiHandlers.class);
  private static final Pattern IMAGE_ID = Pattern.compile("[0-9a-f]{64}");
  private static final Pattern PREFER_WAIT = Pattern.compile("(?:^|[,;\\s])wait\\s*=\\s*(\\d{1,6})(?:$|[,;\\s])");
  private static final int MAX_PAGE = 100;

  private final Vertx vertx;
  private final AppConfig.Http http;
  private final UploadReceiver receiver;
  private final UploadValidator validator;
  private final MeterRegistry registry;

  private final Admission admission;
  private final IdempotencyKeys idempotency;
  private final AppConfig.Webhooks webhooks;

  ApiHandlers(Vertx vertx, AppConfig config, Admission admission, MeterRegistry registry) {
    this.vertx = vertx;
    this.http = config.http();
    this.admission = admission;
    this.receiver = new UploadReceiver(vertx, config.upload().maxBytes(), config.upload().timeoutMs(), admission,
        config.uploadBatches().maxFilesPerRequest());
    // a claim outlives any request once its body is in: its submissions, and a Prefer: wait
    this.idempotency = new IdempotencyKeys(vertx, http.backendTimeoutMs(),
        2 * http.backendTimeoutMs() + http.maxWaitSeconds() * 1000L + 30_000);
    this.validator = new UploadValidator(config.upload().maxPixels());
    this.registry = registry;
    this.webhooks = config.webhooks();
  }

  // ---- POST /images ----------------------------------------------------------------------------

  void upload(RoutingContext ctx) {
    boolean reprocess = "true".equalsIgnoreCase(ctx.request().getParam("reprocess"));
    int waitSeconds = preferredWait(ctx);
    // a parameter or key given twice is ambiguous: which one the client meant is not ours to guess
    List<String> keyHeaders = ctx.request().headers().getAll(IdempotencyKeys.HEADER);
    List<String> callbackParams = ctx.queryParam(CallbackUrl.PARAM);
    if (keyHeaders.size() > 1 || callbackParams.size() > 1) {
      String message = (keyHeaders.size() > 1 ? IdempotencyKeys.HEADER + " header" : CallbackUrl.PARAM + " parameter")
          + " is given more than once; send it once";
      ErrorCode code = keyHeaders.size() > 1 ? ErrorCode.BAD_REQUEST : ErrorCode.INVALID_CALLBACK_URL;
      count("rejected", new UploadRejected(code, message));
      ApiResponses.refuse(ctx, code, message);
      return;
    }
    String keyHeader = keyHeaders.isEmpty() ? null : keyHeaders.get(0);
    String idempotencyKey = keyHeader == null ? null : IdempotencyKeys.parse(keyHeader);
    if (keyHeader != null && idempotencyKey == null) {
      count("rejected", new UploadRejected(ErrorCode.BAD_REQUEST, IdempotencyKeys.SYNTAX));
      ApiResponses.refuse(ctx, ErrorCode.BAD_REQUEST, IdempotencyKeys.SYNTAX);
      return;
    }
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
            if (body.callbackUrlRepeated()) {
              throw new ApiException(ErrorCode.INVALID_CALLBACK_URL,
                  "the form holds more than one callbackUrl field; send it once");
            }
            String callbackUrl = CallbackUrl.checked(ctx.request().getParam(CallbackUrl.PARAM), body.callbackUrl(),
                webhooks);
            List<UploadReceiver.Part> parts = body.parts();
            String fingerprint = idempotencyKey == null ? null : IdempotencyKeys.fingerprint(parts,
                List.of("reprocess=" + reprocess, "callbackUrl=" + (callbackUrl == null ? "" : callbackUrl)));
            return new Received(parts, validateEach(parts), callbackUrl, fingerprint);
          }, false);
        })
        .compose(received -> {
          Supplier<Future<UploadAnswer>> answer = () -> received.parts().size() > 1
              ? batch(received, reprocess) : single(received, reprocess, waitSeconds);
          return idempotencyKey == null ? answer.get()
              : idempotency.once(idempotencyScope(ctx), idempotencyKey, received.fingerprint(), answer);
        })
        .recover(e -> Future.succeededFuture(failed(e)))
        .onComplete(ar -> {
          if (held[0] != null) {
            held[0].release();
          }
        })
        .onSuccess(answer -> {
          answer.send(ctx);
          ErrorCode code = answer.error();
          if (code == ErrorCode.PAYLOAD_TOO_LARGE || code == ErrorCode.REQUEST_TIMEOUT || code == ErrorCode.BAD_REQUEST
              || code == ErrorCode.UNAVAILABLE || code == ErrorCode.TOO_MANY_FILES) {
            ApiResponses.discardRestOfBody(ctx);
          }
        });
  }

  /**
   * An upload's files as received and checked, before anything is submitted.
   *
   * @param checked per part, in order: its {@link ValidatedImage}, or the {@link RuntimeException} refusing it
   * @param callbackUrl the checked webhook URL, or null
   * @param fingerprint what an Idempotency-Key is bound to (null without a key)
   */
  private record Received(List<UploadReceiver.Part> parts, List<Object> checked, String callbackUrl,
                          String fingerprint) {
  }

  /** Each file through the validator; one refused file does not stop the others. */
  private List<Object> validateEach(List<UploadReceiver.Part> parts) {
    List<Object> out = new ArrayList<>(parts.size());
    for (UploadReceiver.Part part : parts) {
      try {
        out.add(validator.validate(part.bytes()));
      } catch (UploadRejected e) {
        out.add(e);
      } catch (RuntimeException e) {
        if (parts.size() == 1) {
          throw e;
        }
        LOG.error("validating file {} of a batch failed", part.index(), e);
        out.add(e);
      }
    }
    return out;
  }

  /** One file: the answer as it always was (202, 409 duplicate_image, 200 after Prefer: wait, or the error). */
  private Future<UploadAnswer> single(Received received, boolean reprocess, int waitSeconds) {
    if (received.checked().get(0) instanceof RuntimeException refused) {
      return Future.succeededFuture(failed(refused));
    }
    ValidatedImage image = (ValidatedImage) received.checked().get(0);
    return submit(new Upload(image, received.parts().get(0).buffer(), received.callbackUrl()), reprocess)
        .compose(submission -> waitSeconds > 0 && submission.newJob()
            ? awaitJob(submission, waitSeconds) : Future.succeededFuture(new Answer(submission, null, false)))
        .map(answer -> respondToUpload(answer, waitSeconds))
        .recover(e -> Future.succeededFuture(failed(e)));
  }

  /**
   * Several files: each is submitted alone and gets its own item, in the order of the parts: its job
   * ({@code status} 202), its earlier job ({@code status} 409, {@code duplicate_image}), or its error.
   * The answer is 202 when any file was accepted, else the first item's status. Under admission
   * control the batch is all or nothing: 503 for all of it when its last file would be refused.
   * {@code Prefer: wait} is for single uploads, and not applied here.
   */
  private Future<UploadAnswer> batch(Received received, boolean reprocess) {
    Admission.Refusal full = admission.checkBacklog(received.parts().size());
    if (full != null) {
      count("refused", new UploadRejected(ErrorCode.UNAVAILABLE, full.message()));
      registry.counter("aiq_admission_refused_total", "reason", "backlog").increment();
      return Future.succeededFuture(UploadAnswer.error(ErrorCode.UNAVAILABLE, full.message())
          .withHeader("Retry-After", String.valueOf(full.retryAfterSeconds())));
    }
    List<Future<JsonObject>> items = new ArrayList<>();
    for (int i = 0; i < received.parts().size(); i++) {
      UploadReceiver.Part part = received.parts().get(i);
      JsonObject item = new JsonObject().put("index", i);
      if (part.filename() != null) {
        // echoed as JSON only, never a path; cut short like any text a client sends back to itself
        item.put("filename", part.filename().length() > 255 ? part.filename().substring(0, 255) : part.filename());
      }
      if (received.checked().get(i) instanceof RuntimeException refused) {
        items.add(Future.succeededFuture(failedItem(item, refused)));
        continue;
      }
      ValidatedImage image = (ValidatedImage) received.checked().get(i);
      items.add(submit(new Upload(image, part.buffer(), received.callbackUrl()), reprocess)
          .map(submission -> submittedItem(item, submission))
          .recover(e -> Future.succeededFuture(failedItem(item, e))));
    }
    return Future.all(items).map(done -> {
      JsonArray out = new JsonArray();
      int accepted = 0;
      JsonObject firstError = null;
      for (Future<JsonObject> f : items) {
        JsonObject item = f.result();
        out.add(item);
        if (item.getInteger("status") == 202) {
          accepted++;
        } else if (firstError == null) {
          firstError = item;
        }
      }
      JsonObject body = new JsonObject().put("items", out).put("accepted", accepted)
          .put("refused", items.size() - accepted);
      if (accepted > 0) {
        return UploadAnswer.of(202, body);
      }
      ErrorCode code = ErrorCode.fromCode(firstError.getJsonObject("error").getString("code"));
      UploadAnswer answer = new UploadAnswer(firstError.getInteger("status"), Map.of(), body, code);
      return firstError.getInteger("status") == 503 ? answer.withHeader("Retry-After", "5") : answer;
    });
  }

  private JsonObject submittedItem(JsonObject item, Submission s) {
    JsonObject links = ApiLinks.forJob(s.jobId(), s.imageId());
    if (s.newJob()) {
      count("accepted", null);
      return item.put("status", 202).put("jobId", s.jobId()).put("imageId", s.imageId())
          .put("jobStatus", s.status().wire()).put("links", links);
    }
    count("duplicate", null);
    return item.put("status", 409).mergeIn(ErrorCode.DUPLICATE_IMAGE.body("this image was uploaded before; its latest "
            + "job is " + s.jobId() + " (add ?reprocess=true to run inference again)"))
        .put("jobId", s.jobId()).put("imageId", s.imageId()).put("jobStatus", s.status().wire()).put("links", links);
  }

  private JsonObject failedItem(JsonObject item, Throwable e) {
    count("rejected", e);
    ErrorCode.ApiFailure f = ErrorCode.fromFailure(e);
    return item.put("status", f.code().status()).mergeIn(f.code().body(f.message()));
  }

  /** An upload refused or failed, as the error the client gets. */
  private UploadAnswer failed(Throwable e) {
    count("rejected", e);
    ErrorCode.ApiFailure f = ErrorCode.fromFailure(e);
    UploadAnswer answer = UploadAnswer.error(f.code(), f.message());
    if (e instanceof UploadRejected r && r.code() == ErrorCode.UNAVAILABLE) {
      registry.counter("aiq_admission_refused_total", "reason", "memory").increment();
      answer = answer.withHeader("Retry-After", "1");
    }
    return answer;
  }

  /** Whose Idempotency-Keys: the API key's when keys are on (ClientGuards names it), everyone's otherwise. */
  private static String idempotencyScope(RoutingContext ctx) {
    String keyId = ctx.get(ClientGuards.API_KEY_ID);
    return keyId == null ? "" : "api-key:" + keyId;
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

  private UploadAnswer respondToUpload(Answer answer, int waitSeconds) {
    Submission s = answer.submission();
    String jobId = s.jobId();
    String imageId = s.imageId();
    JsonObject links = ApiLinks.forJob(jobId, imageId);
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("Location", ApiLinks.job(jobId));
    if (waitSeconds > 0 && answer.waitApplied()) {
      headers.put("Preference-Applied", "wait=" + waitSeconds);
    }
    if (!s.newJob()) {
      count("duplicate", null);
      JsonObject body = ErrorCode.DUPLICATE_IMAGE.body("this image was uploaded before; its latest job is "
          + jobId + " (add ?reprocess=true to run inference again)")
          .put("jobId", jobId).put("imageId", imageId).put("status", s.status().wire()).put("links", links);
      return new UploadAnswer(409, headers, body, ErrorCode.DUPLICATE_IMAGE);
    }
    count("accepted", null);
    JsonObject job = answer.job();
    if (job != null && JobStatus.fromWire(job.getString("status")).terminal()) {
      return new UploadAnswer(200, headers, job, null);
    }
    JsonObject body = new JsonObject().put("jobId", jobId).put("imageId", imageId)
        .put("status", job != null ? job.getString("status") : s.status().wire()).put("links", links);
    return new UploadAnswer(202, headers, body, null);
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

  /** A job id as this API writes them: a UUID in its 36-character form (the job endpoints share it). */
  static boolean isUuid(String s) {
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
