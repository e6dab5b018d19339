package io.aiq.circles.app;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The service as a separate operating-system process ({@link Main}, on this JVM's class path), so a
 * test can kill it as an operator or the kernel would: SIGKILL, or SIGTERM for a graceful stop. Its
 * configuration is the given JSON (read through {@code AIQ_CONFIG_FILE}); its output goes to a log
 * file beside it, shown when a test fails.
 */
public final class AppProcess implements AutoCloseable {
  private final Process process;
  private final Path log;
  private final int port;

  private AppProcess(Process process, Path log, int port) {
    this.process = process;
    this.log = log;
    this.port = port;
  }

  /** Starts the process and waits until it answers ready. */
  static AppProcess start(JsonObject config, Path dir, String name) {
    try {
      Files.createDirectories(dir);
      Path file = dir.resolve(name + ".yaml");
      // JSON is YAML too
      Files.writeString(file, config.encodePrettily());
      Path log = dir.resolve(name + ".log");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(java, "-Xmx384m", "-cp", System.getProperty("java.class.path"),
          Main.class.getName()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      // the settings are the file's alone: an AIQ_* variable of the test's environment would override them
      builder.environment().keySet().removeIf(k -> k.startsWith("AIQ_"));
      builder.environment().put("AIQ_CONFIG_FILE", file.toString());
      AppProcess app = new AppProcess(builder.start(), log, config.getJsonObject("http").getInteger("port"));
      app.awaitReady(Duration.ofSeconds(90));
      return app;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Starts the process with exactly these {@code AIQ_*} settings as its environment (as a pod gets
   * them from its ConfigMap and env), no configuration file, and waits until it answers ready on
   * {@code port}. Other {@code AIQ_*} variables of the test's environment are removed.
   */
  public static AppProcess startWithEnv(Map<String, String> env, Path dir, String name, int port) {
    try {
      Files.createDirectories(dir);
      Path log = dir.resolve(name + ".log");
      String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
      ProcessBuilder builder = new ProcessBuilder(java, "-Xmx384m", "-cp", System.getProperty("java.class.path"),
          Main.class.getName()).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
      builder.environment().keySet().removeIf(k -> k.startsWith("AIQ_"));
      builder.environment().putAll(env);
      AppProcess app = new AppProcess(builder.start(), log, port);
      app.awaitReady(Duration.ofSeconds(120));
      return app;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public int port() {
    return port;
  }

  /** The operating-system process id (its sockets are under /proc/PID/fd). */
  public long pid() {
    return process.pid();
  }

  /** SIGKILL: no shutdown hook runs, nothing in hand is committed. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** SIGTERM, then waits for the exit; returns the exit code, or -1 if it did not exit in time. */
  int terminate(Duration within) throws InterruptedException {
    process.destroy();
    return process.waitFor(within.toMillis(), TimeUnit.MILLISECONDS) ? process.exitValue() : -1;
  }

  public boolean alive() {
    return process.isAlive();
  }

  public String log() {
    try {
      return Files.exists(log) ? Files.readString(log) : "";
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  private void awaitReady(Duration timeout) {
    HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new AssertionError("the process exited with " + process.exitValue() + " before it was ready:\n" + log());
      }
      try {
        HttpResponse<Void> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
            .timeout(Duration.ofSeconds(5)).build(), HttpResponse.BodyHandlers.discarding());
        if (r.statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
      try {
        Thread.sleep(200);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException(e);
      }
    }
    throw new AssertionError("the process was not ready within " + timeout + ":\n" + log());
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
