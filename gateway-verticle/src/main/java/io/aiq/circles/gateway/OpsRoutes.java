package io.aiq.circles.gateway;

import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.healthchecks.HealthCheckHandler;
import io.vertx.micrometer.PrometheusScrapingHandler;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The operational endpoints every process serves, whatever its roles: liveness (the event loop
 * answers), readiness (Kafka, PostgreSQL, the detector — whichever the process's roles use) and the
 * Prometheus scrape.
 */
public final class OpsRoutes {
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  private final PrometheusMeterRegistry registry;

  public OpsRoutes(HealthChecks liveness, HealthChecks readiness, PrometheusMeterRegistry registry) {
    this.liveness = liveness;
    this.readiness = readiness;
    this.registry = registry;
  }

  private final List<Consumer<Router>> extra = new CopyOnWriteArrayList<>();

  /** Routes another role adds to whichever HTTP server this process runs (the model endpoints). */
  public void add(Consumer<Router> routes) {
    extra.add(routes);
  }

  public void mount(Router router) {
    extra.forEach(r -> r.accept(router));
    router.get("/health/live").handler(HealthCheckHandler.createWithHealthChecks(liveness));
    router.get("/health/ready").handler(HealthCheckHandler.createWithHealthChecks(readiness));
    router.get("/metrics").handler(PrometheusScrapingHandler.create(registry));
  }
}
