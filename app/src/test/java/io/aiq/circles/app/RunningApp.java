package io.aiq.circles.app;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/** The whole system in this JVM, wired exactly as {@link Main} wires it, on a real broker and database. */
public final class RunningApp implements AutoCloseable {
  public final TestEnv env;
  public final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  public final Vertx vertx;
  public final AiqApplication app;
  public final ApiClient api;

  public RunningApp(TestEnv env, JsonObject overrides) {
    this(env, overrides, null);
  }

  /** @param tracing the process's tracing, made from its configuration (e.g. to an in-memory exporter) */
  public RunningApp(TestEnv env, JsonObject overrides, java.util.function.Function<AppConfig, Tracing> tracing) {
    this.env = env;
    JsonObject config = env.config();
    if (overrides != null) {
      config.mergeIn(overrides, true);
    }
    Vertx bootstrap = Vertx.vertx();
    AppConfig loaded;
    try {
      loaded = ConfigLoader.load(bootstrap, config).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the configuration did not load", e);
    } finally {
      bootstrap.close();
    }
    try {
      this.vertx = VertxFactory.create(loaded, registry, tracing == null ? null : tracing.apply(loaded))
          .await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("Vert.x did not start", e);
    }
    try {
      this.app = AiqApplication.start(vertx, loaded, registry).await(60, TimeUnit.SECONDS);
    } catch (Exception e) {
      vertx.close();
      throw new IllegalStateException("the application did not start", e);
    }
    this.api = new ApiClient(vertx, app.httpPort());
  }

  public static RunningApp start() {
    return new RunningApp(new TestEnv(), null);
  }

  /** The job id of an upload answered 202; fails the test on any other answer. */
  static String acceptedJob(io.vertx.ext.web.client.HttpResponse<io.vertx.core.buffer.Buffer> r) {
    org.assertj.core.api.Assertions.assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    return r.bodyAsJsonObject().getString("jobId");
  }

  /** Polls /health/ready until it answers this status (red 503 or green 200), for up to a minute. */
  void awaitReadiness(int status) throws InterruptedException {
    long deadline = System.nanoTime() + java.time.Duration.ofSeconds(60).toNanos();
    int last = -1;
    while (System.nanoTime() < deadline) {
      last = api.get("/health/ready").statusCode();
      if (last == status) {
        return;
      }
      Thread.sleep(250);
    }
    throw new AssertionError("readiness stayed " + last + ", expected " + status);
  }

  long count(String sql) {
    try (Connection c = PostgresFixture.connect(env.databaseUrl()); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Files in the image store (temporary files included: none may be left). */
  long storedFiles() {
    try (Stream<Path> files = Files.walk(env.storeRoot())) {
      return files.filter(Files::isRegularFile).count();
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public void close() {
    api.close();
    try {
      app.stop().await(30, TimeUnit.SECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("the application did not stop within 30 s", e);
    } finally {
      vertx.close();
    }
  }
}
