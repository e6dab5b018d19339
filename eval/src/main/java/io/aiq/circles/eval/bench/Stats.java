package io.aiq.circles.eval.bench;

import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Locale;

/** The benchmarks' arithmetic: percentiles, a job's phases from its timestamps, the efficiency ceiling. */
final class Stats {
  private Stats() {
  }

  /** The q-quantile (nearest rank) of values in any order; NaN when there are none. */
  static double pct(double[] values, double q) {
    if (values.length == 0) {
      return Double.NaN;
    }
    double[] s = values.clone();
    Arrays.sort(s);
    return s[(int) Math.min(s.length - 1, Math.ceil(q * s.length) - 1)];
  }

  /** "p50 / p95 / p99", rounded to whole numbers. */
  static String p3(double[] sorted) {
    return String.format(Locale.ROOT, "%.0f / %.0f / %.0f", pct(sorted, 0.5), pct(sorted, 0.95), pct(sorted, 0.99));
  }

  /** Milliseconds between two of a job's timestamps (ISO-8601), or 0 when either is missing. */
  static double millisBetween(JsonObject job, String from, String to) {
    String a = job.getString(from);
    String b = job.getString(to);
    return a == null || b == null ? 0 : Duration.between(Instant.parse(a), Instant.parse(b)).toNanos() / 1e6;
  }

  /**
   * The best efficiency this machine allows at the measured CPU cost per job: the bare model needs
   * {@code cores / modelThroughput} CPU seconds an image, every job costs that plus its share of the
   * service's other work, the broker, the database and the load generator.
   */
  static double efficiencyCeiling(double modelThroughput, CpuShares.Phase cpu) {
    return efficiencyCeiling(modelThroughput, cpu.cpuMsPerJob());
  }

  /** The same at a given CPU per job (one process's, say). */
  static double efficiencyCeiling(double modelThroughput, double cpuMsPerJob) {
    double modelMsPerImage = 1000.0 * Runtime.getRuntime().availableProcessors() / modelThroughput;
    return modelMsPerImage / cpuMsPerJob;
  }
}
