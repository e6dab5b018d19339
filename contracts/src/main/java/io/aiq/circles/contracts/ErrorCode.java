package io.aiq.circles.contracts;

import io.vertx.core.eventbus.ReplyException;
import io.vertx.core.eventbus.ReplyFailure;
import io.vertx.core.json.JsonObject;

/** Every error the API answers with: an HTTP status and a stable machine-readable code. */
public enum ErrorCode {
  BAD_REQUEST(400, "bad_request"),
  MISSING_FILE(400, "missing_file"),
  INVALID_ID(400, "invalid_id"),
  UNAUTHORIZED(401, "unauthorized"),
  FORBIDDEN(403, "forbidden"),
  NOT_FOUND(404, "not_found"),
  METHOD_NOT_ALLOWED(405, "method_not_allowed"),
  REQUEST_TIMEOUT(408, "request_timeout"),
  DUPLICATE_IMAGE(409, "duplicate_image"),
  PAYLOAD_TOO_LARGE(413, "payload_too_large"),
  URI_TOO_LONG(414, "uri_too_long"),
  IMAGE_TOO_LARGE(413, "image_too_large"),
  UNSUPPORTED_MEDIA_TYPE(415, "unsupported_media_type"),
  CORRUPT_IMAGE(422, "corrupt_image"),
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

  /** The failure message carried over the event bus: "code: message". */
  public String failureMessage(String message) {
    return code + ": " + message;
  }

  /** The code of an HTTP status that no handler chose a code for: the framework's own errors. */
  public static ErrorCode forStatus(int status) {
    for (ErrorCode c : values()) {
      if (c.status == status && c != MISSING_FILE && c != INVALID_ID && c != IMAGE_TOO_LARGE) {
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

  /** A failed event-bus request, as the API error it stands for. */
  public static ApiFailure fromFailure(Throwable failure) {
    if (failure instanceof ReplyException re) {
      if (re.failureType() == ReplyFailure.TIMEOUT || re.failureType() == ReplyFailure.NO_HANDLERS) {
        return new ApiFailure(UNAVAILABLE, "the " + (re.failureType() == ReplyFailure.TIMEOUT
            ? "backend did not answer in time" : "backend role is not running"));
      }
      String msg = re.getMessage() == null ? "" : re.getMessage();
      int sep = msg.indexOf(": ");
      if (sep > 0) {
        ErrorCode code = fromCode(msg.substring(0, sep));
        return new ApiFailure(code, msg.substring(sep + 2));
      }
      return new ApiFailure(INTERNAL, msg);
    }
    return new ApiFailure(INTERNAL, failure.getMessage() == null ? failure.toString() : failure.getMessage());
  }

  /** An error code with the message a client reads. */
  public record ApiFailure(ErrorCode code, String message) {
  }
}
