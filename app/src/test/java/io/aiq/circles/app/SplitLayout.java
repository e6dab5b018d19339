package io.aiq.circles.app;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.TestEnv;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The layout the chart runs by default (mode split), as three operating-system processes on this JVM's
 * class path, with no clustered event bus: the API process ({@code gateway,ingest,queries}), inference
 * and the results writer. They meet only in Kafka, PostgreSQL and the image store (one folder here, as
 * the shared volume would be; or an S3 bucket where the configuration says so). Each process can be
 * killed and started again on its own.
 */
public final class SplitLayout implements AutoCloseable {
  public static final String API_ROLES = "gateway,ingest,queries";

  public final TestEnv env;
  /** the settings every process shares (topics, groups, database, store): what the tests read back */
  public final AppConfig config;
  private final JsonObject shared;
  private final Path dir;
  private final Vertx vertx = Vertx.vertx();
  private final int apiPort = TestEnv.freePort();
  private int starts;
  public AppProcess api;
  public AppProcess inference;
  public AppProcess results;
  public final ApiClient client;

  private SplitLayout(TestEnv env, JsonObject overrides, Path dir) {
    this.env = env;
    this.dir = dir;
    this.shared = env.config();
    if (overrides != null) {
      shared.mergeIn(overrides, true);
    }
    Vertx bootstrap = Vertx.vertx();
    try {
      this.config = ConfigLoader.load(bootstrap, shared.copy().put("roles", API_ROLES)).await(30, TimeUnit.SECONDS);
    } catch (Exception e) {
      throw new IllegalStateException("the configuration did not load", e);
    } finally {
      bootstrap.close();
    }
    this.client = new ApiClient(vertx, apiPort);
  }

  /** Starts the three processes (results writer, inference, then the API) and waits until each is ready. */
  public static SplitLayout start(TestEnv env, JsonObject overrides) {
    SplitLayout layout;
    try {
      layout = new SplitLayout(env, overrides, Files.createTempDirectory("aiq-split-"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      layout.results = layout.startResults();
      layout.inference = layout.startInference();
      layout.api = layout.startApi();
      return layout;
    } catch (RuntimeException | Error e) {
      layout.close();
      throw e;
    }
  }

  public static SplitLayout start() {
    return start(new TestEnv(), null);
  }

  /** A process of the API role set on the layout's API port (none may be running there). */
  public AppProcess startApi() {
    return start(API_ROLES, apiPort, shared);
  }

  /** Another inference process (its own management port). */
  public AppProcess startInference() {
    return start("inference", TestEnv.freePort(), shared);
  }

  public AppProcess startInference(JsonObject overrides) {
    return start("inference", TestEnv.freePort(), shared.copy().mergeIn(overrides, true));
  }

  /** Another results writer (its own management port). */
  public AppProcess startResults() {
    return start("results", TestEnv.freePort(), shared);
  }

  private AppProcess start(String roles, int port, JsonObject base) {
    JsonObject config = base.copy().put("roles", roles);
    config.getJsonObject("http").put("port", port);
    config.put("cluster", new JsonObject().put("enabled", false));
    String name = roles.replace(',', '-') + "-" + (++starts);
    return AppProcess.start(config, dir, name);
  }

  /** The logs of the processes now held, for an assertion's description. */
  public String logs() {
    StringBuilder out = new StringBuilder();
    for (AppProcess p : new AppProcess[] {api, inference, results}) {
      if (p != null) {
        out.append("\n===== process on port ").append(p.port()).append(" =====\n").append(p.log());
      }
    }
    return out.toString();
  }

  @Override
  public void close() {
    client.close();
    for (AppProcess p : new AppProcess[] {api, inference, results}) {
      if (p != null) {
        try {
          p.close();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }
    }
    vertx.close();
  }
}
