package io.aiq.circles.app;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the roles named in configuration ({@code AIQ_ROLES}, all by default) in this JVM. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {
  }

  public static void main(String[] args) throws InterruptedException {
    long t0 = System.nanoTime();
    CountDownLatch stopped = new CountDownLatch(1);
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    AppConfig config;
    Vertx bootstrap = Vertx.vertx();
    try {
      config = ConfigLoader.load(bootstrap, new JsonObject()).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      LOG.error("AIQ Circles could not read its configuration: {}", e.getMessage());
      System.exit(2);
      return;
    } finally {
      bootstrap.close();
    }
    Tracing tracing = Tracing.fromConfig(config);
    LOG.info("tracing: {}", tracing);
    VertxFactory.create(config, registry, tracing)
        .compose(vertx -> AiqApplication.start(vertx, config, registry)
            .onSuccess(app -> {
              LOG.info("AIQ Circles ready in {} ms: roles {}, HTTP on port {}{}", (System.nanoTime() - t0) / 1_000_000,
                  app.config().roles(), app.httpPort(), config.cluster().enabled()
                  ? ", clustered (Hazelcast from port " + config.cluster().port() + ", event bus on port "
                  + config.cluster().eventBusPort() + ")" : "");
              Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                shutdown(vertx, app);
                // the spans of the last requests are exported before the process ends
                tracing.close();
                stopped.countDown();
              }, "aiq-shutdown"));
            })
            .onFailure(e -> vertx.close()))
        .onFailure(e -> {
          LOG.error("AIQ Circles could not start: {}", e.getMessage(), e);
          System.exit(1);
        });
    // Vert.x's and the Kafka clients' threads are daemons: while the roles start (and after), this
    // thread is what keeps the process alive; it ends when the shutdown hook has drained the work
    stopped.await();
  }

  private static void shutdown(Vertx vertx, AiqApplication app) {
    long timeoutMs = app.config().shutdownTimeoutMs();
    LOG.info("shutting down: draining in-flight work (up to {} ms)", timeoutMs);
    CountDownLatch done = new CountDownLatch(1);
    app.stop().eventually(vertx::close).onComplete(ar -> done.countDown());
    try {
      if (!done.await(timeoutMs, TimeUnit.MILLISECONDS)) {
        LOG.warn("shutdown timed out; uncommitted work will be redelivered");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
