package io.aiq.circles.gateway;

import io.aiq.circles.config.AppConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.StaticHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The HTTP edge: the public API, its OpenAPI document and Swagger UI, and the operational endpoints.
 * Uploads are validated here and handed to ingest; queries are answered by the results role.
 */
public final class GatewayVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(GatewayVerticle.class);
  /** What webroot/docs/index.html loads from the Swagger UI webjar. */
  private static final java.util.Set<String> SWAGGER_UI_FILES =
      java.util.Set.of("swagger-ui.css", "swagger-ui-bundle.js", "swagger-ui-standalone-preset.js");

  private final AppConfig config;
  private final OpsRoutes ops;
  private final MeterRegistry registry;
  private final ClientGuards guards;
  private final Admission admission;
  private HttpServer server;

  public GatewayVerticle(AppConfig config, OpsRoutes ops, ClientGuards guards, Admission admission,
                         MeterRegistry registry) {
    this.config = config;
    this.ops = ops;
    this.guards = guards;
    this.admission = admission;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    Router router = router();
    // a client that stops sending mid-upload is cut off rather than holding a connection forever
    HttpServerOptions options = HttpErrors.serverOptions(config.http()).setCompressionSupported(true)
        // A part header (its file name) that arrives split over TCP segments is buffered until
        // complete; Vert.x's default of 1 KiB turned a long-but-harmless file name into a failure
        // that depended on how the network cut the body. 16 KiB holds any real header; beyond it
        // the client gets 400 (UploadReceiver). An upload needs a part per file, a few fields more.
        .setMaxFormBufferedBytes(UploadReceiver.MAX_PART_HEADER_BYTES)
        // the decoder counts file parts as fields: a batch's files come on top (UploadReceiver refuses
        // one file part too many itself, with 413 too_many_files)
        .setMaxFormFields(UploadReceiver.MAX_FORM_FIELDS + config.uploadBatches().maxFilesPerRequest());
    return vertx.createHttpServer(options).invalidRequestHandler(HttpErrors::invalidRequest).requestHandler(router)
        .listen().onSuccess(s -> {
      server = s;
      LOG.info("gateway listening on http://{}:{}", config.http().host(), s.actualPort());
    });
  }

  public int actualPort() {
    return server == null ? -1 : server.actualPort();
  }

  Router router() {
    Router router = Router.router(vertx);
    // with tracing on, each request's span is named after its route (POST /images)
    router.route().handler(RouteSpanNames.handler());
    ApiHandlers api = new ApiHandlers(vertx, config, admission, registry);
    router.route("/images*").handler(guards.rateLimit());
    // "/jobs*" as "/images*": the listing at /jobs too
    router.route("/jobs*").handler(guards.rateLimit());
    router.post("/images").handler(guards.requireKey(ClientGuards.Scope.UPLOAD)).handler(api::upload);
    router.post("/images/").handler(guards.requireKey(ClientGuards.Scope.UPLOAD)).handler(api::upload);
    router.get("/images").handler(api::images);
    router.get("/images/:imageId").handler(api::image);
    // deleting is writing: the same key as an upload
    router.delete("/images/:imageId").handler(guards.requireKey(ClientGuards.Scope.UPLOAD)).handler(api::delete);
    router.get("/images/:imageId/objects").handler(api::objects);
    router.get("/images/:imageId/objects/:objectId").handler(api::object);
    router.get("/jobs/:jobId").handler(api::job);
    // a job's life (issue 16): listing, cancelling (writing: the upload key), its event stream
    JobHandlers jobs = new JobHandlers(vertx, config.http());
    JobEventStreams streams = new JobEventStreams(vertx, config.jobs(), config.http().backendTimeoutMs(), registry);
    router.get("/jobs").handler(jobs::list);
    router.delete("/jobs/:jobId").handler(guards.requireKey(ClientGuards.Scope.UPLOAD)).handler(jobs::cancel);
    router.get("/jobs/:jobId/events").handler(streams::stream);
    ops.mount(router);
    router.get("/openapi.yaml").handler(ctx -> ctx.response().putHeader("Content-Type", "application/yaml")
        .sendFile("openapi.yaml"));
    // the event contract: /asyncapi.yaml and the JSON Schemas it references
    EventContractRoutes.mount(router);
    // "/docs" also matches "/docs/": only the bare path is redirected
    router.get("/docs").handler(ctx -> {
      if (ctx.request().path().equals("/docs")) {
        ctx.redirect("/docs/");
      } else {
        ctx.next();
      }
    });
    // only the three files our page loads: the webjar's own index.html (the petstore demo) and
    // oauth2-redirect.html are not ours to serve
    router.get("/docs/ui/*").handler(ctx -> {
      if (SWAGGER_UI_FILES.contains(ctx.request().path().substring("/docs/ui/".length()))) {
        ctx.next();
      } else {
        ctx.fail(404);
      }
    }).handler(StaticHandler.create("META-INF/resources/webjars/swagger-ui/" + swaggerUiVersion()));
    router.get("/docs/*").handler(StaticHandler.create("webroot/docs"));
    // the viewer: upload images and see their circles (plain HTML/JS from the jar, no CDN)
    router.get("/").handler(ctx -> ctx.response().putHeader("Content-Type", "text/html; charset=utf-8")
        .sendFile("webroot/viewer/index.html"));
    router.get("/viewer/*").handler(StaticHandler.create("webroot/viewer"));
    HttpErrors.install(router);
    return router;
  }

  private static String swaggerUiVersion() {
    try (InputStream in = GatewayVerticle.class.getResourceAsStream("/swagger-ui.properties")) {
      Properties p = new Properties();
      p.load(in);
      return p.getProperty("version");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
