package io.aiq.circles.app;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.gateway.HttpErrors;
import io.aiq.circles.gateway.OpsRoutes;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;

/**
 * The HTTP server of a process without the gateway role (an inference or results pod, say): only
 * health and metrics (and the model endpoints of an inference process), so probes and Prometheus
 * reach every process alike. Its errors are JSON and its idle connections closed, as the gateway's.
 */
final class ManagementVerticle extends VerticleBase {
  private final AppConfig.Http http;
  private final OpsRoutes ops;
  private HttpServer server;

  ManagementVerticle(AppConfig.Http http, OpsRoutes ops) {
    this.http = http;
    this.ops = ops;
  }

  @Override
  public Future<?> start() {
    Router router = Router.router(vertx);
    ops.mount(router);
    HttpErrors.install(router);
    return vertx.createHttpServer(HttpErrors.serverOptions(http)).invalidRequestHandler(HttpErrors::invalidRequest)
        .requestHandler(router).listen().onSuccess(s -> server = s);
  }

  int actualPort() {
    return server == null ? -1 : server.actualPort();
  }
}
