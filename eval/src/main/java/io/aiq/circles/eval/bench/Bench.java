package io.aiq.circles.eval.bench;

import io.aiq.circles.eval.CliOptions;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code just bench}: the bare model (its physical limit here), then the whole pipeline beside it;
 * prints one table and appends it to {@code docs/benchmarks.md} with the date, machine and commit.
 */
@Command(name = "aiq-bench", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
    description = "Benchmarks the bare model and the whole pipeline on this machine.")
public final class Bench implements Callable<Integer> {
  @Mixin
  CliOptions.Backends backends;

  @Mixin
  CliOptions.Phases phases;

  @Option(names = "--commit", defaultValue = "unknown", description = "the commit measured")
  String commit;

  @Option(names = "--append", description = "markdown file to append the table to (e.g. docs/benchmarks.md)")
  Path append;

  @Option(names = "--load-seconds", defaultValue = "15", description = "length of each wrk phase: accept at 1, 8 and "
      + "32 connections, the two reads (default: ${DEFAULT-VALUE})")
  int loadSeconds;

  @Option(names = "--wrk-scripts", defaultValue = "scripts/bench", description = "folder of the wrk scripts "
      + "(default: ${DEFAULT-VALUE})")
  Path wrkScripts;

  @Option(names = "--drain-only", description = "only the bare model (a) and the drain (i), side by side, in about "
      + "two minutes: for trying a change to the inference path; nothing is appended")
  boolean drainOnly;

  @Mixin
  CliOptions.Photos photos;

  /** /proc/stat at the start, for the run's steal time (the machine's neighbours). */
  private CpuShares.Snapshot runStart;

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (listening(8080)) {
      System.out.println("note: something answers on 127.0.0.1:8080 (just dev?): it shares the CPU and lowers these figures");
    }
    runStart = CpuShares.snapshot(ProcessHandle.current().pid());
    System.out.println("== (a) the bare model: decode + letterbox + TensorFlow + decoding, 512 x 384 JPEGs ==");
    ModelBenchmark model = new ModelBenchmark();
    new CommandLine(model).parseArgs("--seconds", "5");
    model.call();
    ModelBenchmark.Figures m = model.figures();
    ThroughputBenchmark throughput = new ThroughputBenchmark(Path.of("app/target/aiq-circles.jar"), "-Xmx512m", 18080,
        backends.kafka, backends.databaseUrl, photos.load(), loadSeconds, wrkScripts);
    if (drainOnly) {
      ThroughputBenchmark.Drain drain = throughput.drain();
      System.out.printf(Locale.ROOT, "drain %.1f jobs/s of the bare model's %.1f images/s: %.2f (idle %.0f %%); "
              + "at every core busy %.2f, at the service's own CPU per job %.2f%n",
          drain.jobsPerSecond(), m.bestThroughput(), drain.jobsPerSecond() / m.bestThroughput(),
          100 * drain.cpu().idleShare(), Stats.efficiencyCeiling(m.bestThroughput(), drain.cpu()),
          Stats.efficiencyCeiling(m.bestThroughput(), drain.cpu().cpuMsPerJob("service")));
      return 0;
    }

    System.out.println("== (g)-(i) accept, reads and drain, load from wrk ==");
    ThroughputBenchmark.Figures w = throughput.run();

    System.out.println("== (b)-(f) the pipeline: all roles in one JVM, the shipped model ==");
    PipelineBenchmark pipeline = new PipelineBenchmark();
    new CommandLine(pipeline).parseArgs("--kafka", backends.kafka, "--database-url", backends.databaseUrl,
        "--seconds", String.valueOf(phases.seconds), "--warmup", String.valueOf(phases.warmup),
        "--soak", String.valueOf(phases.soak), "--model-throughput", String.valueOf(m.bestThroughput()));
    int exit = pipeline.call();
    PipelineBenchmark.Figures p = pipeline.figures;

    String table = table(m, p, pipeline, w);
    System.out.println();
    System.out.println(table);
    if (append != null) {
      Files.writeString(append, "\n" + table, StandardOpenOption.APPEND);
      System.out.println("appended to " + append);
    }
    return exit;
  }

  private String table(ModelBenchmark.Figures m, PipelineBenchmark.Figures p, PipelineBenchmark pipeline,
                       ThroughputBenchmark.Figures w) {
    double efficiency = p.saturationJobsPerSecond() / m.bestThroughput();
    StringBuilder t = new StringBuilder();
    t.append(String.format(Locale.ROOT, "### `just bench`, %s: %d cores, Java %s, commit %s%n%n", LocalDate.now(),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), commit));
    double steal = new CpuShares.Phase(runStart, CpuShares.snapshot(ProcessHandle.current().pid()), 1).stealShare();
    t.append("Machine: ").append(machine()).append("; the service, Kafka, PostgreSQL and the load generator share it")
        .append(Double.isNaN(steal) ? "" : fmt("; over the run the hypervisor took %.1f %% of its CPU time for other "
            + "machines (steal)", 100 * steal)).append(".\n\n");
    t.append("| figure | measured | target |\n|---|---|---|\n");
    row(t, "(a) bare model: best throughput (" + m.bestConfiguration() + ")", fmt("%.1f images/s", m.bestThroughput()),
        "≥ 150 images/s");
    row(t, "(a) bare model: single image median / p95, decode included", fmt("%.1f / %.1f ms", m.singleMedianMs(),
        m.singleP95Ms()), "median ≤ 8 ms");
    row(t, "(a) bare model: load", fmt("%.2f s", m.loadSeconds()), "≤ 2 s");
    row(t, "(b) pipeline at saturation", fmt("%.1f completed jobs/s", p.saturationJobsPerSecond()), "");
    row(t, "pipeline efficiency (b)/(a)", fmt("%.2f", efficiency), "≥ 0.80");
    row(t, "where the cores went at saturation (share of all CPU time)", pipeline.cpu.shares()
        + pipeline.cpu.idleAndSteal(), "");
    row(t, "CPU per completed job at saturation, by process", fmt("%.1f ms: ", pipeline.cpu.cpuMsPerJob())
        + pipeline.cpu.perJob(), "");
    row(t, "… inside the service, by thread group", pipeline.cpu.servicePerJob(), "");
    row(t, "efficiency this machine allows at that CPU per job (every core busy)",
        fmt("%.2f", Stats.efficiencyCeiling(m.bestThroughput(), pipeline.cpu)), "");
    row(t, fmt("(c) accept latency p50 / p95 / p99 at %.1f uploads/s", p.halfRate()), Stats.p3(p.acceptMs())
        + " ms", "p99 ≤ 50 ms");
    row(t, "(c) completion latency p50 / p95 / p99 (submitted → finished)", Stats.p3(p.completionMs()) + " ms",
        "p99 ≤ 1,000 ms");
    row(t, "(d) cold start to /health/ready", fmt("%.2f s", p.coldStartSeconds()), "≤ 5 s");
    row(t, "(e) RSS under load", p.rssUnderLoadMiB() + " MiB", "≤ 1,024 MiB");
    if (p.soakImages() > 0) {
      row(t, fmt("(e) RSS after 1,000 → %,d images", p.soakImages()), fmt("%d → %d MiB (%+.1f %%)", p.rssAfterSoakStartMiB(),
          p.rssAfterSoakEndMiB(), 100.0 * (p.rssAfterSoakEndMiB() - p.rssAfterSoakStartMiB())
              / Math.max(1, p.rssAfterSoakStartMiB())), "flat (± 5 %)");
      row(t, "(e) … of which", pipeline.soakGrowth, "");
    }
    row(t, "(f) one job's time, medians: accept / queue wait / decode + inference / results + persist",
        fmt("%.0f / %.0f / %.0f / %.0f ms", Stats.pct(p.acceptMs(), 0.5), Stats.pct(p.queueMs(), 0.5),
            Stats.pct(p.inferenceMs(), 0.5), Stats.pct(p.persistMs(), 0.5)), "");
    row(t, "failed requests", String.valueOf(p.failed()), "0");
    for (ThroughputBenchmark.Accept a : w.accepts()) {
      ThroughputBenchmark.WrkRun r = a.wrk();
      boolean lone = r.connections() == 1;
      row(t, fmt("(g) accept, dummy detector, %d connection%s: uploads/s, p50 / p99", r.connections(), lone ? "" : "s"),
          fmt("%,.0f/s, %.1f / %.1f ms", r.perSecond(), r.p50Ms(), r.p99Ms()) + errors(r),
          lone ? "p50 ≤ 5 ms" : r.connections() == 32 ? "≥ 1,000/s, p99 ≤ 50 ms" : "");
      if (lone) {
        Map<String, Double> st = a.stageMeansMs();
        row(t, "(g) … a lone upload's ingest, means: store / database / publish (of ingest)",
            fmt("%.2f / %.2f / %.2f ms (of %.2f)", st.get("store"), st.get("database"), st.get("publish"), st.get("ingest")),
            "");
      }
      if (r.connections() == 32) {
        row(t, "(g) … at 32 connections, where the cores went (share of all CPU time)", a.cpu().shares()
            + a.cpu().idleAndSteal(), "");
        row(t, "(g) … CPU per accepted upload, by process (the dummy pipeline behind it included)",
            fmt("%.2f ms: ", a.cpu().cpuMsPerJob()) + a.cpu().perJob(), "");
      }
    }
    for (ThroughputBenchmark.Read r : w.reads()) {
      String route = "jobs".equals(r.route()) ? "GET /jobs/{id}" : "GET /images/{id}/objects";
      row(t, fmt("(h) %s, 8 connections, %,d jobs stored: requests/s, p50 / p99", route, r.jobsInDatabase()),
          fmt("%,.0f/s, %.2f / %.2f ms", r.wrk().perSecond(), r.wrk().p50Ms(), r.wrk().p99Ms()) + errors(r.wrk()),
          "≥ 5,000/s, p99 ≤ 10 ms");
    }
    ThroughputBenchmark.Drain d = w.drain();
    row(t, "(i) drain, the shipped model, no upload competing: completed jobs/s (of (a))",
        fmt("%.1f jobs/s (%.2f)", d.jobsPerSecond(), d.jobsPerSecond() / m.bestThroughput()), "≥ 0.80 of (a)");
    row(t, "(i) … where the cores went while draining", d.cpu().shares() + d.cpu().idleAndSteal(), "");
    row(t, "(i) … CPU per drained job, by process", fmt("%.2f ms: ", d.cpu().cpuMsPerJob()) + d.cpu().perJob(), "");
    row(t, "(i) … inside the service, by thread group", d.cpu().servicePerJob(), "");
    row(t, "(i) … the share of (a) this machine allows at that CPU per job (every core busy)",
        fmt("%.2f", Stats.efficiencyCeiling(m.bestThroughput(), d.cpu())), "");
    row(t, "(i) … the same at the service's own CPU per job (the broker, the database and the rest on other cores, "
        + "as the chart deploys them)", fmt("%.2f (%.2f ms a job)", Stats.efficiencyCeiling(m.bestThroughput(),
            d.cpu().cpuMsPerJob("service")), d.cpu().cpuMsPerJob("service")), "");
    t.append(String.format(Locale.ROOT, "%nCommand: `just bench` (phases of %d s, soak of %,d images; the service runs "
        + "with -Xmx512m, one JVM, all roles, default settings; %d s of warm-up load). (g)-(i): load from wrk, "
        + "phases of %d s; distinct ~20 KB JPEGs; (g) and (h) with the dummy detector, (i) with the shipped model; "
        + "the admission limits raised for (g)-(i), which measure the accept path and the drain, not refusals; "
        + "(h) on a database brought to %,d+ jobs by SQL.%n", phases.seconds, phases.soak, phases.warmup, loadSeconds,
        ThroughputBenchmark.READ_JOBS));
    return t.toString();
  }

  /** The CPU model and memory, from Linux's /proc. */
  static String machine() {
    String cpu = "unknown CPU";
    String memory = "";
    try {
      cpu = Files.readAllLines(Path.of("/proc/cpuinfo")).stream().filter(l -> l.startsWith("model name"))
          .map(l -> l.substring(l.indexOf(':') + 1).trim()).findFirst().orElse(cpu);
      memory = Files.readAllLines(Path.of("/proc/meminfo")).stream().filter(l -> l.startsWith("MemTotal"))
          .map(l -> fmt(", %.0f GiB memory", Long.parseLong(l.replaceAll("[^0-9]", "")) / 1048576.0)).findFirst()
          .orElse("");
    } catch (Exception e) {
      // not Linux: the cores and Java say enough
    }
    return fmt("%d × %s%s", Runtime.getRuntime().availableProcessors(), cpu, memory);
  }

  private static String errors(ThroughputBenchmark.WrkRun r) {
    return r.errors() == 0 ? "" : fmt(" (%d errors)", r.errors());
  }

  private static void row(StringBuilder t, String what, String value, String target) {
    t.append("| ").append(what).append(" | ").append(value).append(" | ").append(target).append(" |\n");
  }

  private static String fmt(String format, Object... args) {
    return String.format(Locale.ROOT, format, args);
  }

  private static boolean listening(int port) {
    try (Socket s = new Socket(InetAddress.getLoopbackAddress(), port)) {
      return true;
    } catch (Exception e) {
      return false;
    }
  }
}
