package io.aiq.circles.contracts;

import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/** Every error the API answers with: an HTTP status and a stable machine-readable code. */
public enum ErrorCode {
  BAD_REQUEST(400, "bad_request"),
  MISSING_FILE(400, "missing_file"),
  INVALID_ID(400, "invalid_id"),
  /** A GET /jobs cursor this API did not give out (garbage, tampered with). */
  INVALID_CURSOR(400, "invalid_cursor"),
  /** A callbackUrl that is not an absolute http(s) URL, or whose host resolves to a refused address. */
  INVALID_CALLBACK_URL(400, "invalid_callback_url"),
  /** A callbackUrl on a deployment without webhooks.secret: no webhook could be signed. */
  WEBHOOKS_DISABLED(400, "webhooks_disabled"),
  UNAUTHORIZED(401, "unauthorized"),
  FORBIDDEN(403, "forbidden"),
  NOT_FOUND(404, "not_found"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed"),
  REQUEST_TIMEOUT(408, "request_timeout"),
  DUPLICATE_IMAGE(409, "duplicate_image"),
  /** DELETE of an image while one of its jobs is queued or processing: refused, nothing removed. */
  JOB_IN_FLIGHT(409, "job_in_flight"),
  /** An Idempotency-Key whose first request is still being answered: retry once it is. */
  IDEMPOTENCY_KEY_IN_FLIGHT(409, "idempotency_key_in_flight"),
  /** DELETE /jobs/{jobId} of a job that already succeeded or failed: nothing to cancel. */
  JOB_FINISHED(409, "job_finished"),
  PAYLOAD_TOO_LARGE(413, "payload_too_large"),
  URI_TOO_LONG(414, "uri_too_long"),
  IMAGE_TOO_LARGE(413, "image_too_large"),
  /** More file parts in one upload than upload.max-files-per-request. */
  TOO_MANY_FILES(413, "too_many_files"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type"),
  CORRUPT_IMAGE(422, "corrupt_image"),
  /** An Idempotency-Key used before with another request (other files or parameters). */
  IDEMPOTENCY_KEY_REUSED(422, "idempotency_key_reused"),
  RATE_LIMITED(429, "rate_limited"),
  HEADERS_TOO_LARGE(431, "headers_too_large"),
  INTERNAL(500, "internal_error"),
  UNAVAILABLE(503, "unavailable");

  private final int status;
  private final String code;

  ErrorCode(int status, String code) {
    this.status = status;
    this.code = code;
  }

  public int status() {
    return status;
  }

  public String code() {
    return code;
  }

  /** The error body of the API: {@code {"error": {"code", "message"}}}. */
  public JsonObject body(String message) {
    return new JsonObject().put("error", new JsonObject().put("code", code).put("message", message));
  }

  /**
   * Fails an event-bus request with this code and a message for the client: the reply's failure
   * code is the HTTP status, its message {@code {"code", "message"}} as JSON, which
   * {@link #fromFailure} reads back. The one encoding of errors between roles.
   */
  public ReplyException asReply(String message) {
    return new ReplyException(ReplyFailure.RECIPIENT_FAILURE, status,
        new JsonObject().put("code", code).put("message", message).encode());
  }

  /** Answers a request with this error (see {@link #asReply}). */
  public void fail(Message<?> request, String message) {
    ReplyException e = asReply(message);
    request.fail(e.failureCode(), e.getMessage());
  }

  /** The code of an HTTP status that no handler chose a code for: the framework's own errors. */
  public static ErrorCode forStatus(int status) {
    for (ErrorCode c : values()) {
      if (c.status == status && c != MISSING_FILE && c != INVALID_ID && c != IMAGE_TOO_LARGE
          && c != INVALID_CALLBACK_URL && c != WEBHOOKS_DISABLED) {
        return c;
      }
    }
    return status >= 500 ? (status == 503 ? UNAVAILABLE : INTERNAL) : BAD_REQUEST;
  }

  public static ErrorCode fromCode(String code) {
    for (ErrorCode c : values()) {
      if (c.code.equals(code)) {
        return c;
      }
    }
    return INTERNAL;
  }

  /**
   * A failure, as the API error it stands for: a request answered with {@link #asReply}, a role
   * that is away or too slow (503), an {@link ApiException}. Anything else is a fault of ours, and a
   * client learns no more of it than "internal error" (the log has the rest).
   */
  public static ApiFailure fromFailure(Throwable failure) {
    if (failure instanceof ApiException a) {
      return new ApiFailure(a.code(), a.getMessage());
    }
    if (failure instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT || re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new ApiFailure(UNAVAILABLE, "the " + (re.failureType() == ReplyFailure.TIMEOUT
            ? "backend did not answer in time" : "backend role is not running"));
      }
      try {
        JsonObject error = new JsonObject(re.getMessage() == null ? "" : re.getMessage());
        String code = error.getString("code");
        String message = error.getString("message");
        if (code != null && message != null) {
          return new ApiFailure(fromCode(code), message);
        }
      } catch (RuntimeException notOurs) {
        // a failure some handler raised without asReply: a fault, below
      }
    }
    return new ApiFailure(INTERNAL, "internal error");
  }

  /** An error code with the message a client reads. */
  public record ApiFailure(ErrorCode code, String message) {
  }
}
