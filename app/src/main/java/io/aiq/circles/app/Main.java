package io.aiq.circles.app;

import io.aiq.circles.contracts.config.ConfigLoader;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.VertxOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.micrometer.Label;
import io.vertx.micrometer.MicrometerMetricsFactory;
import io.vertx.micrometer.MicrometerMetricsOptions;
import java.util.EnumSet;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Starts the roles named in configuration ({@code AIQ_ROLES}, all by default) in this JVM. */
public final class Main {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);
  private static final long SHUTDOWN_TIMEOUT_SECONDS = 30;

  private Main() {
  }

  public static void main(String[] args) {
    long t0 = System.nanoTime();
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    Vertx vertx = newVertx(registry);
    ConfigLoader.load(vertx, new JsonObject())
        .compose(config -> AiqApplication.start(vertx, config, registry))
        .onSuccess(app -> {
          LOG.info("AIQ Circles ready in {} ms: roles {}, HTTP on port {}", (System.nanoTime() - t0) / 1_000_000,
              app.config().roles(), app.httpPort());
          Runtime.getRuntime().addShutdownHook(new Thread(() -> shutdown(vertx, app), "aiq-shutdown"));
        })
        .onFailure(e -> {
          LOG.error("AIQ Circles could not start: {}", e.getMessage(), e);
          vertx.close();
          System.exit(1);
        });
  }

  /** A Vert.x whose HTTP, event-bus and pool metrics, and JVM metrics, land in the registry. */
  public static Vertx newVertx(PrometheusMeterRegistry registry) {
    MicrometerMetricsOptions metrics = new MicrometerMetricsOptions().setEnabled(true).setJvmMetricsEnabled(true)
        .setLabels(EnumSet.of(Label.HTTP_METHOD, Label.HTTP_CODE, Label.HTTP_ROUTE, Label.EB_ADDRESS, Label.POOL_TYPE, Label.POOL_NAME));
    return Vertx.builder().with(new VertxOptions().setMetricsOptions(metrics))
        .withMetrics(new MicrometerMetricsFactory(registry)).build();
  }

  private static void shutdown(Vertx vertx, AiqApplication app) {
    LOG.info("shutting down: draining in-flight work (up to {} s)", SHUTDOWN_TIMEOUT_SECONDS);
    CountDownLatch done = new CountDownLatch(1);
    app.stop().eventually(vertx::close).onComplete(ar -> done.countDown());
    try {
      if (!done.await(SHUTDOWN_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
        LOG.warn("shutdown timed out; uncommitted work will be redelivered");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
