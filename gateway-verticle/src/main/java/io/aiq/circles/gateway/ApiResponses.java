package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.vertx.core.http.HttpServerResponse;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

/** Writes API answers: JSON bodies, and errors as {@code {"error": {"code", "message"}}}. */
final class ApiResponses {
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
    if (code == ErrorCode.UNAVAILABLE || code == ErrorCode.RATE_LIMITED) {
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
}
