package io.aiq.circles.gateway;

import io.opentelemetry.api.trace.Span;
import io.vertx.core.Handler;
import io.vertx.ext.web.Route;
import io.vertx.ext.web.RoutingContext;

/**
 * Names the HTTP server span of a request after the route that answered it ({@code POST /images},
 * {@code GET /jobs/:jobId}), as OpenTelemetry's HTTP conventions name server spans: Vert.x names it
 * after the method alone, since only the router knows the route. Costs nothing without tracing (the
 * current span is then the no-op one).
 */
final class RouteSpanNames {
  private RouteSpanNames() {
  }

  static Handler<RoutingContext> handler() {
    return ctx -> {
      Span span = Span.current();
      if (span.isRecording()) {
        ctx.addHeadersEndHandler(v -> {
          Route route = ctx.currentRoute();
          String path = route == null ? null : route.getPath();
          if (path != null) {
            span.updateName(ctx.request().method().name() + " " + path);
            span.setAttribute("http.route", path);
          }
        });
      }
      ctx.next();
    };
  }
}
