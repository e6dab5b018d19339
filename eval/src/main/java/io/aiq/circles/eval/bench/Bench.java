package io.aiq.circles.eval.bench;

import io.aiq.circles.eval.CliOptions;
import java.net.InetAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.LocalDate;
import java.util.Locale;
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

  public static void main(String[] args) {
    System.exit(new CommandLine(new Bench()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (listening(8080)) {
      System.out.println("note: something answers on 127.0.0.1:8080 (just dev?): it shares the CPU and lowers these figures");
    }
    System.out.println("== (a) the bare model: decode + letterbox + TensorFlow + decoding, 512 x 384 JPEGs ==");
    ModelBenchmark model = new ModelBenchmark();
    new CommandLine(model).parseArgs("--seconds", "5");
    model.call();
    ModelBenchmark.Figures m = model.figures();

    System.out.println("== (b)-(f) the pipeline: all roles in one JVM, the shipped model ==");
    PipelineBenchmark pipeline = new PipelineBenchmark();
    new CommandLine(pipeline).parseArgs("--kafka", backends.kafka, "--database-url", backends.databaseUrl,
        "--seconds", String.valueOf(phases.seconds), "--warmup", String.valueOf(phases.warmup),
        "--soak", String.valueOf(phases.soak), "--model-throughput", String.valueOf(m.bestThroughput()));
    int exit = pipeline.call();
    PipelineBenchmark.Figures p = pipeline.figures;

    String table = table(m, p, pipeline);
    System.out.println();
    System.out.println(table);
    if (append != null) {
      Files.writeString(append, "\n" + table, StandardOpenOption.APPEND);
      System.out.println("appended to " + append);
    }
    return exit;
  }

  private String table(ModelBenchmark.Figures m, PipelineBenchmark.Figures p, PipelineBenchmark pipeline) {
    double efficiency = p.saturationJobsPerSecond() / m.bestThroughput();
    StringBuilder t = new StringBuilder();
    t.append(String.format(Locale.ROOT, "### `just bench`, %s: %d cores, Java %s, commit %s%n%n", LocalDate.now(),
        Runtime.getRuntime().availableProcessors(), System.getProperty("java.version"), commit));
    t.append("| figure | measured | target |\n|---|---|---|\n");
    row(t, "(a) bare model: best throughput (" + m.bestConfiguration() + ")", fmt("%.1f images/s", m.bestThroughput()),
        "≥ 150 images/s");
    row(t, "(a) bare model: single image median / p95, decode included", fmt("%.1f / %.1f ms", m.singleMedianMs(),
        m.singleP95Ms()), "median ≤ 8 ms");
    row(t, "(a) bare model: load", fmt("%.2f s", m.loadSeconds()), "≤ 2 s");
    row(t, "(b) pipeline at saturation", fmt("%.1f completed jobs/s", p.saturationJobsPerSecond()), "");
    row(t, "pipeline efficiency (b)/(a)", fmt("%.2f", efficiency), "≥ 0.80");
    row(t, "where the cores went at saturation (share of all CPU time)", pipeline.cpu.shares()
        + fmt("; idle %.0f %%", 100 * pipeline.cpu.idleShare()), "");
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
    t.append(String.format(Locale.ROOT, "%nCommand: `just bench` (phases of %d s, soak of %,d images; the service runs "
        + "with -Xmx512m, one JVM, all roles, default settings; %d s of warm-up load).%n", phases.seconds, phases.soak,
        phases.warmup));
    return t.toString();
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
