package io.aiq.circles.eval.bench;

import io.aiq.circles.eval.train.ModelBenchmark;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * The pipeline's figures on this machine, part of {@code just bench}: the service (all roles in one
 * JVM, the shipped model) is started as its own process against the given Kafka and PostgreSQL,
 * with topics and consumer groups of its own, and measured from outside as a client sees it:
 * cold start to ready, completed jobs a second at saturation, accept and completion latency at half
 * of that rate, where a job's time goes (from the job's own timestamps), and resident memory under
 * load and after many images.
 */
@Command(name = "aiq-bench-pipeline", mixinStandardHelpOptions = true, sortOptions = false,
    description = "Measures the whole pipeline: cold start, saturation throughput, latency at half load, memory.")
public final class PipelineBenchmark implements Callable<Integer> {

  @Option(names = "--jar", defaultValue = "app/target/aiq-circles.jar", description = "the service's jar (default: ${DEFAULT-VALUE})")
  Path jar;

  @Option(names = "--kafka", required = true, description = "Kafka bootstrap servers")
  String kafka;

  @Option(names = "--database-url", required = true, description = "PostgreSQL URL")
  String databaseUrl;

  @Option(names = "--images", defaultValue = "eval/datasets/coins-dev", description = "folder of JPEG photos (default: ${DEFAULT-VALUE})")
  Path images;

  @Option(names = "--size", defaultValue = "512x384", description = "re-encode the photos as JPEGs of this size, as the "
      + "bare model's benchmark does; 'original' keeps the files (default: ${DEFAULT-VALUE})")
  String size;

  @Option(names = "--jvm-options", defaultValue = "-Xmx512m", description = "JVM options of the measured service, "
      + "space-separated (default: ${DEFAULT-VALUE}: a heap sized as for a 1 GiB container)")
  String jvmOptions;

  @Option(names = "--env", description = "a setting of the measured service, NAME=VALUE (e.g. AIQ_INFERENCE_BATCH_SIZE=16);"
      + " repeatable")
  List<String> settings = new ArrayList<>();

  @Option(names = "--backlog", defaultValue = "48", description = "at saturation, uploads wait while more jobs than this "
      + "are unfinished (default: ${DEFAULT-VALUE})")
  int backlog;

  @Option(names = "--port", defaultValue = "18080", description = "HTTP port for the measured service (default: ${DEFAULT-VALUE})")
  int port;

  @Option(names = "--seconds", defaultValue = "30", description = "length of each measured phase (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--warmup", defaultValue = "10", description = "seconds of load before the measured phases: the JIT "
      + "compiles the hot paths meanwhile (default: ${DEFAULT-VALUE}; a long-running service is warmer still)")
  int warmup;

  @Option(names = "--soak", defaultValue = "10000", description = "images pushed through for the memory figure (default: ${DEFAULT-VALUE}; 0: skip)")
  int soak;

  @Option(names = "--model-throughput", defaultValue = "0", description = "the bare model's images/s, for the pipeline efficiency (from just bench-model)")
  double modelThroughput;

  /** The figures, for {@code just bench}'s table. */
  record Figures(double coldStartSeconds, double saturationJobsPerSecond, double halfRate, double[] acceptMs,
                 double[] completionMs, double[] queueMs, double[] inferenceMs, double[] persistMs, long rssUnderLoadMiB,
                 long rssAfterSoakStartMiB, long rssAfterSoakEndMiB, int soakImages, int failed) {
  }

  Figures figures;
  /** Where the machine's CPU time went at saturation. */
  CpuShares.Phase cpu;


  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();
  /** What failed, by HTTP status or exception: a benchmark's errors must say why. */
  private final java.util.Map<String, AtomicInteger> failureKinds = new java.util.concurrent.ConcurrentHashMap<>();
  private final List<byte[]> photos = new ArrayList<>();
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger failures = new AtomicInteger();
  private Process service;
  private String base;

  public static void main(String[] args) {
    System.exit(new CommandLine(new PipelineBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    try (Stream<Path> files = Files.list(images)) {
      for (Path p : files.filter(f -> f.toString().endsWith(".jpg")).sorted().toList()) {
        byte[] jpeg = Files.readAllBytes(p);
        if (!"original".equals(size)) {
          String[] wh = size.split("x");
          jpeg = ModelBenchmark.reencode(jpeg, Integer.parseInt(wh[0]), Integer.parseInt(wh[1]));
        }
        photos.add(jpeg);
      }
    }
    base = "http://127.0.0.1:" + port;
    Path log = Files.createTempFile("aiq-bench-service-", ".log");
    String run = "bench" + UUID.randomUUID().toString().substring(0, 8);
    List<String> command = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString()));
    command.addAll(Arrays.stream(jvmOptions.trim().split("\\s+")).filter(o -> !o.isEmpty()).toList());
    command.addAll(List.of("-jar", jar.toString()));
    ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(log.toFile());
    builder.environment().keySet().removeIf(k -> k.startsWith("AIQ_"));
    builder.environment().put("AIQ_HTTP_PORT", String.valueOf(port));
    builder.environment().put("AIQ_KAFKA_BOOTSTRAP", kafka);
    builder.environment().put("AIQ_KAFKA_TOPIC_PREFIX", run + ".");
    builder.environment().put("AIQ_KAFKA_GROUP_PREFIX", run);
    builder.environment().put("AIQ_DATABASE_URL", databaseUrl);
    builder.environment().put("AIQ_STORE_ROOT", Files.createTempDirectory("aiq-bench-store-").toString());
    builder.environment().put("AIQ_RATE_LIMIT_REQUESTS_PER_SECOND", "0");
    builder.environment().putIfAbsent("TF_ENABLE_ONEDNN_OPTS", "1");
    for (String setting : settings) {
      int eq = setting.indexOf('=');
      if (eq < 1) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--env wants NAME=VALUE, got " + setting);
      }
      builder.environment().put(setting.substring(0, eq), setting.substring(eq + 1));
    }
    System.out.printf(Locale.ROOT, "service: %s %s %s on port %d, topics %s.*, log %s%n", String.join(" ", settings), jvmOptions,
        jar, port, run, log);

    long t0 = System.nanoTime();
    service = builder.start();
    try {
      awaitReady(Duration.ofSeconds(120), log);
      double coldStart = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "(d) cold start to /health/ready: %.2f s%n", coldStart);

      // warm-up: the JIT, TensorFlow's first runs, the consumers' partition assignment
      runClosedLoop(Duration.ofSeconds(Math.max(5, warmup)), 16);
      ClosedLoop saturated = runClosedLoop(Duration.ofSeconds(seconds), 16);
      double saturation = saturated.rate();
      cpu = saturated.cpu();
      long rssUnderLoad = rssMiB();
      System.out.printf(Locale.ROOT, "(b) saturation: %.1f completed jobs/s (RSS under load %d MiB)%n", saturation, rssUnderLoad);
      System.out.printf(Locale.ROOT, "    where the cores went at saturation: %s; idle %.0f %%%n", cpu.shares(),
          100 * cpu.idleShare());
      System.out.printf(Locale.ROOT, "    CPU per completed job: %.1f ms: %s%n", cpu.cpuMsPerJob(), cpu.perJob());
      System.out.println("    inside the service, by thread: " + cpu.servicePerJob());
      if (modelThroughput > 0) {
        System.out.printf(Locale.ROOT, "    pipeline efficiency: %.2f (bare model %.1f images/s); with every core busy "
            + "at this CPU per job at most %.2f%n", saturation / modelThroughput, modelThroughput,
            efficiencyCeiling(modelThroughput, cpu));
      }

      double half = saturation / 2;
      List<Submitted> jobs = runOpenLoop(Duration.ofSeconds(seconds), half);
      List<JsonObject> finished = awaitAll(jobs);
      double[] accept = jobs.stream().mapToDouble(Submitted::acceptMs).sorted().toArray();
      double[] completion = finished.stream().mapToDouble(j -> millisBetween(j, "submittedAt", "finishedAt")).sorted().toArray();
      double[] queue = finished.stream().mapToDouble(j -> millisBetween(j, "submittedAt", "startedAt")).sorted().toArray();
      double[] inference = finished.stream().mapToDouble(j -> j.getLong("inferenceMillis", 0L)).sorted().toArray();
      double[] persist = finished.stream().mapToDouble(j -> millisBetween(j, "startedAt", "finishedAt")
          - j.getLong("inferenceMillis", 0L)).sorted().toArray();
      System.out.printf(Locale.ROOT, "(c) at %.1f uploads/s (half of saturation), %d jobs: accept p50/p95/p99 %s ms; "
          + "completion p50/p95/p99 %s ms%n", half, jobs.size(), p3(accept), p3(completion));
      System.out.printf(Locale.ROOT, "(f) where a job's time goes (median): accept %.0f ms, queue wait %.0f ms, "
              + "decode + inference %.0f ms, results hop + persist %.0f ms%n", pct(accept, 0.5), pct(queue, 0.5),
          pct(inference, 0.5), pct(persist, 0.5));

      long soakStart = 0;
      long soakEnd = 0;
      Memory memoryStart = null;
      if (soak > 0) {
        int base = completedJobs();
        int step = Math.max(1000, soak / 5);
        int nextReport = Math.min(1000, soak);
        int done = 0;
        while (done < soak) {
          runClosedLoop(Duration.ofSeconds(5), 16);
          done = completedJobs() - base;
          if (done >= nextReport) {
            long rss = rssMiB();
            Memory memory = memory(rss);
            if (soakStart == 0) {
              soakStart = rss;
              memoryStart = memory;
            }
            System.out.printf(Locale.ROOT, "    soak: %,d images, %s%n", done, memory);
            nextReport += step;
          }
        }
        soakEnd = rssMiB();
        System.out.printf(Locale.ROOT, "(e) RSS after 1,000 images %d MiB, after %,d images %d MiB (%+.1f %%)%n", soakStart,
            done, soakEnd, 100.0 * (soakEnd - soakStart) / Math.max(1, soakStart));
        soakGrowth = memoryStart == null ? "" : memory(soakEnd).growthSince(memoryStart);
        System.out.println("    of the growth: " + soakGrowth);
      }
      figures = new Figures(coldStart, saturation, half, accept, completion, queue, inference, persist, rssUnderLoad,
          soakStart, soakEnd, soak, failures.get());
      System.out.printf(Locale.ROOT, "failed requests: %d%n", failures.get());
      failureKinds.forEach((kind, n) -> System.out.printf(Locale.ROOT, "    %6d x %s%n", n.get(), kind));
      return failures.get() == 0 ? 0 : 1;
    } finally {
      service.destroy();
      service.waitFor();
    }
  }

  private record Submitted(String jobId, double acceptMs) {
  }

  /** What the growth of the soak is made of: the JVM's heap and other pools, or memory outside them. */
  String soakGrowth = "";

  /**
   * The service's resident memory split by what holds it, from its own metrics: the Java heap as
   * committed (bounded by -Xmx; it grows towards it lazily, which is not a leak), the JVM's other
   * pools (metaspace, code cache), direct buffers, and the rest (TensorFlow, thread stacks, malloc).
   */
  record Memory(long rssMiB, double heapMiB, double nonHeapMiB, double directMiB) {
    double outsideMiB() {
      return rssMiB - heapMiB - nonHeapMiB - directMiB;
    }

    @Override
    public String toString() {
      return String.format(Locale.ROOT, "RSS %d MiB (heap committed %.0f, other JVM pools %.0f, direct buffers %.0f, "
          + "the rest %.0f)", rssMiB, heapMiB, nonHeapMiB, directMiB, outsideMiB());
    }

    String growthSince(Memory start) {
      return String.format(Locale.ROOT, "heap committed %+.0f MiB, other JVM pools %+.0f MiB, direct buffers %+.0f MiB, "
          + "outside the JVM's accounts (TensorFlow, stacks, malloc) %+.0f MiB", heapMiB - start.heapMiB,
          nonHeapMiB - start.nonHeapMiB, directMiB - start.directMiB, outsideMiB() - start.outsideMiB());
    }
  }

  private static double mib(String prometheusLine) {
    return Double.parseDouble(prometheusLine.substring(prometheusLine.lastIndexOf(' ') + 1)) / (1 << 20);
  }

  private Memory memory(long rssMiB) throws Exception {
    double heap = 0;
    double nonHeap = 0;
    double direct = 0;
    for (String line : get("/metrics", null).split("\n")) {
      boolean committed = line.startsWith("jvm_memory_committed_bytes{");
      if (committed && line.contains("area=\"heap\"")) {
        heap += mib(line);
      } else if (committed && line.contains("area=\"nonheap\"")) {
        nonHeap += mib(line);
      } else if (line.startsWith("jvm_buffer_memory_used_bytes{") && line.contains("id=\"direct\"")) {
        direct += mib(line);
      }
    }
    return new Memory(rssMiB, heap, nonHeap, direct);
  }

  private record ClosedLoop(double rate, CpuShares.Phase cpu) {
  }

  /**
   * The best efficiency this machine allows at the measured CPU cost per job: the bare model needs
   * {@code cores / modelThroughput} CPU seconds an image, every job costs that plus its share of the
   * service's other work, the broker, the database and the load generator.
   */
  static double efficiencyCeiling(double modelThroughput, CpuShares.Phase cpu) {
    double modelMsPerImage = 1000.0 * Runtime.getRuntime().availableProcessors() / modelThroughput;
    return modelMsPerImage / cpu.cpuMsPerJob();
  }

  /**
   * Keeps the service saturated: {@code concurrency} uploaders, held back while more than
   * {@link #backlog} jobs wait (a few batches ahead of inference, not thousands). Returns completed
   * jobs a second over the phase.
   */
  private ClosedLoop runClosedLoop(Duration length, int concurrency) throws Exception {
    long end = System.nanoTime() + length.toNanos();
    int startCount = completedJobs();
    CpuShares.Snapshot before = CpuShares.snapshot(service.pid());
    long start = System.nanoTime();
    AtomicInteger accepted = new AtomicInteger();
    AtomicInteger completed = new AtomicInteger();
    List<CompletableFuture<Void>> workers = new ArrayList<>();
    for (int w = 0; w < concurrency; w++) {
      workers.add(CompletableFuture.runAsync(() -> {
        while (System.nanoTime() < end) {
          if (accepted.get() - completed.get() > backlog) {
            sleep(10);
          } else if (upload() != null) {
            accepted.incrementAndGet();
          }
        }
      }));
    }
    while (System.nanoTime() < end) {
      Thread.sleep(200);
      completed.set(completedJobs() - startCount);
    }
    CompletableFuture.allOf(workers.toArray(CompletableFuture[]::new)).get();
    int jobs = completedJobs() - startCount;
    CpuShares.Snapshot after = CpuShares.snapshot(service.pid());
    double rate = jobs / ((System.nanoTime() - start) / 1e9);
    drain(Duration.ofSeconds(120));
    return new ClosedLoop(rate, new CpuShares.Phase(before, after, jobs));
  }

  /** Uploads at a fixed rate (open loop: arrivals do not wait for answers). */
  private List<Submitted> runOpenLoop(Duration length, double rate) throws Exception {
    List<CompletableFuture<Submitted>> sent = new ArrayList<>();
    long start = System.nanoTime();
    long n = (long) (length.toSeconds() * rate);
    for (long i = 0; i < n; i++) {
      long due = start + (long) (i * 1e9 / rate);
      long wait = due - System.nanoTime();
      if (wait > 0) {
        Thread.sleep(wait / 1_000_000, (int) (wait % 1_000_000));
      }
      sent.add(CompletableFuture.supplyAsync(this::upload));
    }
    List<Submitted> out = new ArrayList<>();
    for (CompletableFuture<Submitted> f : sent) {
      Submitted s = f.get();
      if (s != null) {
        out.add(s);
      }
    }
    return out;
  }

  private Submitted upload() {
    byte[] photo = photos.get(Math.floorMod(next.getAndIncrement(), photos.size()));
    String boundary = "bench" + UUID.randomUUID();
    ByteArrayOutputStream body = new ByteArrayOutputStream();
    body.writeBytes(("--" + boundary + "\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.jpg\"\r\n"
        + "Content-Type: image/jpeg\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
    body.writeBytes(photo);
    body.writeBytes(("\r\n--" + boundary + "--\r\n").getBytes(StandardCharsets.US_ASCII));
    long t0 = System.nanoTime();
    try {
      HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(base + "/images?reprocess=true"))
          .header("Content-Type", "multipart/form-data; boundary=" + boundary)
          .POST(HttpRequest.BodyPublishers.ofByteArray(body.toByteArray())).timeout(Duration.ofSeconds(30)).build(),
          HttpResponse.BodyHandlers.ofString());
      double ms = (System.nanoTime() - t0) / 1e6;
      if (r.statusCode() != 202) {
        fail("upload answered " + r.statusCode() + " " + r.body().substring(0, Math.min(120, r.body().length())));
        return null;
      }
      return new Submitted(new JsonObject(r.body()).getString("jobId"), ms);
    } catch (IOException e) {
      fail("upload: " + e);
      return null;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return null;
    }
  }

  private void fail(String kind) {
    failures.incrementAndGet();
    failureKinds.computeIfAbsent(kind, k -> new AtomicInteger()).incrementAndGet();
  }

  private List<JsonObject> awaitAll(List<Submitted> jobs) throws Exception {
    List<JsonObject> out = Collections.synchronizedList(new ArrayList<>());
    for (Submitted s : jobs) {
      for (int attempt = 0; attempt < 60; attempt++) {
        JsonObject job = new JsonObject(get("/jobs/" + s.jobId(), "wait=5"));
        String status = job.getString("status");
        if ("succeeded".equals(status)) {
          out.add(job);
          break;
        }
        if ("failed".equals(status)) {
          fail("job failed: " + job.getJsonObject("error", new JsonObject()).getString("code"));
          break;
        }
      }
    }
    return out;
  }

  /** Waits until nothing is queued or processing (the backlog of a phase is done). */
  private void drain(Duration timeout) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    int last = -1;
    while (System.nanoTime() < end) {
      int now = completedJobs();
      if (now == last) {
        return;
      }
      last = now;
      Thread.sleep(1500);
    }
  }

  /** Jobs the results role has finished, from its own counter. */
  private int completedJobs() throws Exception {
    double total = 0;
    for (String line : get("/metrics", null).split("\n")) {
      if (line.startsWith("aiq_jobs_transitions_total{") && (line.contains("status=\"succeeded\"")
          || line.contains("status=\"failed\""))) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (int) total;
  }

  private String get(String path, String prefer) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(30));
    if (prefer != null) {
      req.header("Prefer", prefer);
    }
    return http.send(req.build(), HttpResponse.BodyHandlers.ofString()).body();
  }

  private void awaitReady(Duration timeout, Path log) throws Exception {
    long end = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < end) {
      if (!service.isAlive()) {
        throw new IllegalStateException("the service exited: " + Files.readString(log));
      }
      try {
        if (http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).timeout(Duration.ofSeconds(2)).build(),
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

  private long rssMiB() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/" + service.pid() + "/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024;
      }
    }
    return -1;
  }

  private static double millisBetween(JsonObject job, String from, String to) {
    String a = job.getString(from);
    String b = job.getString(to);
    return a == null || b == null ? 0 : Duration.between(Instant.parse(a), Instant.parse(b)).toNanos() / 1e6;
  }

  static double pct(double[] values, double q) {
    return ModelBenchmark.percentile(values, q);
  }

  static String p3(double[] sorted) {
    return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", pct(sorted, 0.5), pct(sorted, 0.95), pct(sorted, 0.99));
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
