package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ErrorCode;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The answer to one {@code POST /images}, built before it is sent: so that an {@code Idempotency-Key}'s
 * first answer can be kept exactly as the client got it (status, headers, body) and replayed.
 *
 * @param error the error answered (null for a 2xx): the caller decides from it what else to do
 *     (discard the rest of a refused body, count the refusal)
 */
record UploadAnswer(int status, Map<String, String> headers, JsonObject body, ErrorCode error) {
  /** Headers replayed with a kept answer; others (Content-Type, Content-Length) are the server's own. */
  UploadAnswer {
    headers = Map.copyOf(headers);
  }

  static UploadAnswer of(int status, JsonObject body) {
    return new UploadAnswer(status, Map.of(), body, null);
  }

  static UploadAnswer error(ErrorCode code, String message) {
    Map<String, String> headers = new LinkedHashMap<>();
    if (code == ErrorCode.UNAVAILABLE) {
      headers.put("Retry-After", "5");
    }
    return new UploadAnswer(code.status(), headers, code.body(message), code);
  }

  UploadAnswer withHeader(String name, String value) {
    Map<String, String> h = new LinkedHashMap<>(headers);
    h.put(name, value);
    return new UploadAnswer(status, h, body, error);
  }

  /**
   * Whether the answer may be kept for its Idempotency-Key: not a 5xx (the client is to retry, and a
   * retry must be able to succeed), nor a batch any of whose files got one.
   */
  boolean keepable() {
    if (status >= 500) {
      return false;
    }
    if (body.getValue("items") instanceof io.vertx.core.json.JsonArray items) {
      for (Object item : items) {
        if (item instanceof JsonObject i && i.getInteger("status", 0) >= 500) {
          return false;
        }
      }
    }
    return true;
  }

  void send(RoutingContext ctx) {
    if (ctx.response().ended() || ctx.response().closed()) {
      return;
    }
    headers.forEach((name, value) -> ctx.response().putHeader(name, value));
    ApiResponses.json(ctx, status, body);
  }

  /** As kept in the database: {@code {status, headers, body}}. */
  JsonObject toJson() {
    JsonObject h = new JsonObject();
    headers.forEach(h::put);
    return new JsonObject().put("status", status).put("headers", h).put("body", body);
  }

  static UploadAnswer fromJson(JsonObject j) {
    Map<String, String> headers = new LinkedHashMap<>();
    JsonObject h = j.getJsonObject("headers", new JsonObject());
    h.forEach(e -> headers.put(e.getKey(), String.valueOf(e.getValue())));
    JsonObject body = j.getJsonObject("body", new JsonObject());
    JsonObject error = body.getJsonObject("error");
    return new UploadAnswer(j.getInteger("status"), headers, body,
        error == null ? null : ErrorCode.fromCode(error.getString("code")));
  }
}
