package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes API answers: JSON bodies, and errors as {@code {"error": {"code", "message"}}}. */
final class ApiResponses {
  private static final long LINGER_MS = 2000;

  private ApiResponses() {
  }

  static void json(RoutingContext ctx, int status, JsonObject body) {
    HttpServerResponse r = ctx.response();
    if (r.ended() || r.closed()) {
      return;
    }
    r.setStatusCode(status).putHeader("Content-Type", "application/json").end(body.toBuffer());
  }

  static void error(RoutingContext ctx, ErrorCode code, String message) {
    HttpServerResponse r = ctx.response();
    if (r.ended() || r.closed()) {
      return;
    }
    if ((code == ErrorCode.UNAVAILABLE || code == ErrorCode.RATE_LIMITED) && !r.headers().contains("Retry-After")) {
      r.putHeader("Retry-After", "5");
    }
    json(ctx, code.status(), code.body(message));
  }

  static void failure(RoutingContext ctx, Throwable failure) {
    if (failure instanceof ApiException r) {
      error(ctx, r.code(), r.getMessage());
      return;
    }
    ErrorCode.ApiFailure f = ErrorCode.fromFailure(failure);
    error(ctx, f.code(), f.message());
  }

  /**
   * Answers an error before the request's body was read. The client may still be sending it:
   * closing at once would reset the connection and can destroy the answer before the client reads
   * it; so the rest is read and discarded for a short while (as web servers' "lingering close"
   * does), then the connection is closed if the body still has not ended.
   */
  static void refuse(RoutingContext ctx, ErrorCode code, String message) {
    error(ctx, code, message);
    discardRestOfBody(ctx);
  }

  static void discardRestOfBody(RoutingContext ctx) {
    HttpServerRequest request = ctx.request();
    if (request.isEnded()) {
      return;
    }
    request.handler(ignored -> { });
    request.resume();
    ctx.vertx().setTimer(LINGER_MS, t -> {
      if (!request.isEnded()) {
        request.connection().close();
      }
    });
  }
}
