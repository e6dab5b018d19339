package io.aiq.circles.eval.bench;

import io.aiq.circles.eval.CliOptions;
import io.vertx.core.json.JsonObject;
import java.net.http.HttpClient;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * The pipeline's figures on this machine, part of {@code just bench}: the service (all roles in one
 * JVM, the shipped model) is started as its own process against the given Kafka and PostgreSQL,
 * with topics and consumer groups of its own, and measured from outside as a client sees it:
 * cold start to ready, completed jobs a second at saturation, accept and completion latency at half
 * of that rate, where a job's time goes (from the job's own timestamps), and resident memory under
 * load and after many images.
 *
 * <p>The parts: {@link ServiceProcess} starts the service, {@link LoadGenerator} uploads and follows
 * the jobs, {@link MetricsScraper} reads the service's counters and memory, {@link CpuShares} says
 * where the machine's CPU went, {@link Stats} does the arithmetic; this class runs the phases and
 * prints their figures.
 */
@Command(name = "aiq-bench-pipeline", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
    description = "Measures the whole pipeline: cold start, saturation throughput, latency at half load, memory.")
public final class PipelineBenchmark implements Callable<Integer> {

  @Option(names = "--jar", defaultValue = "app/target/aiq-circles.jar", description = "the service's jar (default: ${DEFAULT-VALUE})")
  Path jar;

  @Mixin
  CliOptions.Backends backends;

  @Mixin
  CliOptions.Photos photos;

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

  @Mixin
  CliOptions.Phases phases;

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
  /** What the growth of the soak is made of: the JVM's heap and other pools, or memory outside them. */
  String soakGrowth = "";

  private final HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
      .connectTimeout(Duration.ofSeconds(5)).build();

  public static void main(String[] args) {
    System.exit(new CommandLine(new PipelineBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<byte[]> jpegs = photos.load();
    Map<String, String> env = new LinkedHashMap<>();
    for (String setting : settings) {
      int eq = setting.indexOf('=');
      if (eq < 1) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--env wants NAME=VALUE, got " + setting);
      }
      env.put(setting.substring(0, eq), setting.substring(eq + 1));
    }
    ServiceProcess service = new ServiceProcess(jar, jvmOptions, port, backends.kafka, backends.databaseUrl, env);
    System.out.printf(Locale.ROOT, "service: %s %s %s on port %d, topics %s.*, log %s%n", String.join(" ", settings), jvmOptions,
        jar, port, service.run(), service.log());

    long t0 = System.nanoTime();
    service.start();
    try {
      service.awaitReady(http, Duration.ofSeconds(120));
      double coldStart = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "(d) cold start to /health/ready: %.2f s%n", coldStart);
      MetricsScraper metrics = new MetricsScraper(http, service.base());
      LoadGenerator load = new LoadGenerator(http, service.base(), jpegs, backlog, metrics, service.pid());

      // warm-up: the JIT, TensorFlow's first runs, the consumers' partition assignment
      load.closedLoop(Duration.ofSeconds(Math.max(5, phases.warmup)), 16);
      LoadGenerator.ClosedLoop saturated = load.closedLoop(Duration.ofSeconds(phases.seconds), 16);
      double saturation = saturated.rate();
      cpu = saturated.cpu();
      long rssUnderLoad = service.rssMiB();
      System.out.printf(Locale.ROOT, "(b) saturation: %.1f completed jobs/s (RSS under load %d MiB)%n", saturation, rssUnderLoad);
      System.out.printf(Locale.ROOT, "    where the cores went at saturation: %s; idle %.0f %%%n", cpu.shares(),
          100 * cpu.idleShare());
      System.out.printf(Locale.ROOT, "    CPU per completed job: %.1f ms: %s%n", cpu.cpuMsPerJob(), cpu.perJob());
      System.out.println("    inside the service, by thread: " + cpu.servicePerJob());
      if (modelThroughput > 0) {
        System.out.printf(Locale.ROOT, "    pipeline efficiency: %.2f (bare model %.1f images/s); with every core busy "
            + "at this CPU per job at most %.2f%n", saturation / modelThroughput, modelThroughput,
            Stats.efficiencyCeiling(modelThroughput, cpu));
      }

      double half = saturation / 2;
      List<LoadGenerator.Submitted> jobs = load.openLoop(Duration.ofSeconds(phases.seconds), half);
      List<JsonObject> finished = load.awaitAll(jobs);
      double[] accept = jobs.stream().mapToDouble(LoadGenerator.Submitted::acceptMs).sorted().toArray();
      double[] completion = finished.stream().mapToDouble(j -> Stats.millisBetween(j, "submittedAt", "finishedAt"))
          .sorted().toArray();
      double[] queue = finished.stream().mapToDouble(j -> Stats.millisBetween(j, "submittedAt", "startedAt")).sorted().toArray();
      double[] inference = finished.stream().mapToDouble(j -> j.getLong("inferenceMillis", 0L)).sorted().toArray();
      double[] persist = finished.stream().mapToDouble(j -> Stats.millisBetween(j, "startedAt", "finishedAt")
          - j.getLong("inferenceMillis", 0L)).sorted().toArray();
      System.out.printf(Locale.ROOT, "(c) at %.1f uploads/s (half of saturation), %d jobs: accept p50/p95/p99 %s ms; "
          + "completion p50/p95/p99 %s ms%n", half, jobs.size(), Stats.p3(accept), Stats.p3(completion));
      System.out.printf(Locale.ROOT, "(f) where a job's time goes (median): accept %.0f ms, queue wait %.0f ms, "
              + "decode + inference %.0f ms, results hop + persist %.0f ms%n", Stats.pct(accept, 0.5),
          Stats.pct(queue, 0.5), Stats.pct(inference, 0.5), Stats.pct(persist, 0.5));

      long soakStart = 0;
      long soakEnd = 0;
      MetricsScraper.Memory memoryStart = null;
      int soak = phases.soak;
      if (soak > 0) {
        int before = metrics.completedJobs();
        int step = Math.max(1000, soak / 5);
        int nextReport = Math.min(1000, soak);
        int done = 0;
        while (done < soak) {
          load.closedLoop(Duration.ofSeconds(5), 16);
          done = metrics.completedJobs() - before;
          if (done >= nextReport) {
            long rss = service.rssMiB();
            MetricsScraper.Memory memory = metrics.memory(rss);
            if (soakStart == 0) {
              soakStart = rss;
              memoryStart = memory;
            }
            System.out.printf(Locale.ROOT, "    soak: %,d images, %s%n", done, memory);
            nextReport += step;
          }
        }
        soakEnd = service.rssMiB();
        System.out.printf(Locale.ROOT, "(e) RSS after 1,000 images %d MiB, after %,d images %d MiB (%+.1f %%)%n", soakStart,
            done, soakEnd, 100.0 * (soakEnd - soakStart) / Math.max(1, soakStart));
        soakGrowth = memoryStart == null ? "" : metrics.memory(soakEnd).growthSince(memoryStart);
        System.out.println("    of the growth: " + soakGrowth);
      }
      int failed = load.failures();
      figures = new Figures(coldStart, saturation, half, accept, completion, queue, inference, persist, rssUnderLoad,
          soakStart, soakEnd, soak, failed);
      System.out.printf(Locale.ROOT, "failed requests: %d%n", failed);
      load.failureKinds().forEach((kind, n) -> System.out.printf(Locale.ROOT, "    %6d x %s%n", n.get(), kind));
      return failed == 0 ? 0 : 1;
    } finally {
      service.stop();
    }
  }
}
