package io.aiq.circles.eval.bench;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/**
 * The measured service as a process of its own: the runnable jar with all roles, on the given
 * Kafka and PostgreSQL, with topics and consumer groups of its own (a fresh prefix per run), an
 * image store in a temporary folder, no per-client rate limit, and its output in a log file.
 * Nothing of the caller's {@code AIQ_*} environment leaks into it.
 */
final class ServiceProcess {
  private final ProcessBuilder builder;
  private final Path log;
  private final String run;
  private final int port;
  private Process process;

  /**
   * Prepares the process; {@link #start()} starts it.
   *
   * @param settings extra environment of the service (e.g. {@code AIQ_INFERENCE_BATCH_SIZE}), set last
   */
  ServiceProcess(Path jar, String jvmOptions, int port, String kafka, String databaseUrl, Map<String, String> settings)
      throws IOException {
    this.port = port;
    this.log = Files.createTempFile("aiq-bench-service-", ".log");
    this.run = "bench" + UUID.randomUUID().toString().substring(0, 8);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(Arrays.stream(jvmOptions.trim().split("\\s+")).filter(o -> !o.isEmpty()).toList());
    command.addAll(List.of("-jar", jar.toString()));
    builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> env = builder.environment();
    env.keySet().removeIf(k -> k.startsWith("AIQ_"));
    env.put("AIQ_HTTP_PORT", String.valueOf(port));
    env.put("AIQ_KAFKA_BOOTSTRAP", kafka);
    env.put("AIQ_KAFKA_TOPIC_PREFIX", run + ".");
    env.put("AIQ_KAFKA_GROUP_PREFIX", run);
    env.put("AIQ_DATABASE_URL", databaseUrl);
    env.put("AIQ_STORE_ROOT", Files.createTempDirectory("aiq-bench-store-").toString());
    env.put("AIQ_RATE_LIMIT_REQUESTS_PER_SECOND", "0");
    env.putIfAbsent("TF_ENABLE_ONEDNN_OPTS", "1");
    env.putAll(settings);
  }

  /** The prefix of this run's topics and consumer groups. */
  String run() {
    return run;
  }

  /** The service's output. */
  Path log() {
    return log;
  }

  /** {@code http://127.0.0.1:PORT}. */
  String base() {
    return "http://127.0.0.1:" + port;
  }

  void start() throws IOException {
    process = builder.start();
  }

  long pid() {
    return process.pid();
  }

  /** Waits until {@code /health/ready} answers 200; fails at once if the process exits. */
  void awaitReady(HttpClient http, Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the service exited: " + Files.readString(log));
      }
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(base() + "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
            HttpResponse.BodyHandlers.discarding()).statusCode() == 200) {
          return;
        }
      } catch (IOException e) {
        // not listening yet
      }
      Thread.sleep(50);
    }
    throw new IllegalStateException("the service was not ready within " + timeout + "; log: " + log);
  }

  /** The service's resident memory, from {@code /proc}; -1 where Linux does not say. */
  long rssMiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + process.pid() + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    return -1;
  }

  /** Stops the service and waits for it to end. */
  void stop() throws InterruptedException {
    if (process != null) {
      process.destroy();
      process.waitFor();
    }
  }
}
