package io.aiq.circles.eval.bench;

import io.aiq.circles.eval.CliOptions;
import io.aiq.circles.inference.tf.TfDetector;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code just bench-model}: the bare model's speed on this machine, as the inference role runs it
 * (JPEG decode, letterbox, TensorFlow, decoding of the peaks): load time, single-image latency,
 * throughput by batch size and threads, and resident memory over many inferences.
 */
@Command(name = "aiq-bench-model", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
    description = "Measures the detector's load time, latency, throughput and memory on this machine.")
public final class ModelBenchmark implements Callable<Integer> {

  @Option(names = "--model", defaultValue = "models/circles", description = "SavedModel folder (default: ${DEFAULT-VALUE})")
  Path model;

  @Mixin
  CliOptions.Photos photos;

  @Option(names = "--seconds", defaultValue = "8", description = "seconds per throughput measurement (default: ${DEFAULT-VALUE})")
  int seconds;

  @Option(names = "--soak", defaultValue = "0", description = "inferences for the memory soak (0: skip; the target is 10000)")
  int soak;

  /** The figures of the last {@link #call()}, for callers that report them (just bench). */
  double loadSeconds;
  double singleMedianMs;
  double singleP95Ms;
  double bestThroughput;
  String bestConfiguration = "";

  /** The bare model's figures of the last run. */
  public record Figures(double loadSeconds, double singleMedianMs, double singleP95Ms, double bestThroughput,
                        String bestConfiguration) {
  }

  public Figures figures() {
    return new Figures(loadSeconds, singleMedianMs, singleP95Ms, bestThroughput, bestConfiguration);
  }

  public static void main(String[] args) {
    System.exit(new CommandLine(new ModelBenchmark()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    List<byte[]> jpegs = photos.load();
    int cores = Runtime.getRuntime().availableProcessors();
    System.out.printf(Locale.ROOT, "machine: %d cores, Java %s, TF_ENABLE_ONEDNN_OPTS=%s; model %s; %d JPEG images from %s,"
        + " size %s%n", cores, System.getProperty("java.version"), System.getenv("TF_ENABLE_ONEDNN_OPTS"), model, jpegs.size(),
        photos.folder, photos.size);

    long t0 = System.nanoTime();
    try (TfDetector detector = new TfDetector(model, 0, null)) {
      loadSeconds = (System.nanoTime() - t0) / 1e9;
      System.out.printf(Locale.ROOT, "model load: %.2f s%n", loadSeconds);
    }
    // one image at a time, as a lone upload meets an idle service; with one TensorFlow thread (the
    // service's default, model.threads: 1) and with every core
    singleMedianMs = Double.MAX_VALUE;
    for (int threads : new int[] {1, 0}) {
      try (TfDetector detector = new TfDetector(model, threads, null)) {
        for (int i = 0; i < 50; i++) {
          detector.detect(List.of(detector.decode(jpegs.get(i % jpegs.size()))));
        }
        int n = Math.max(300, jpegs.size());
        double[] decodeMs = new double[n];
        double[] totalMs = new double[n];
        for (int i = 0; i < n; i++) {
          long a = System.nanoTime();
          BufferedImage img = detector.decode(jpegs.get(i % jpegs.size()));
          long b = System.nanoTime();
          detector.detect(List.of(img));
          long c = System.nanoTime();
          decodeMs[i] = (b - a) / 1e6;
          totalMs[i] = (c - a) / 1e6;
        }
        double median = Stats.pct(totalMs, 0.5);
        System.out.printf(Locale.ROOT, "single image, decode included, %s: median %.1f ms, p95 %.1f ms (JPEG decode median %.1f ms)%n",
            threads == 0 ? "all cores" : threads + " TF thread", median, Stats.pct(totalMs, 0.95), Stats.pct(decodeMs, 0.5));
        if (median < singleMedianMs) {
          singleMedianMs = median;
          singleP95Ms = Stats.pct(totalMs, 0.95);
        }
      }
    }
    System.out.println("throughput (images/s), decode included; rows: TensorFlow threads x callers, columns: batch size");
    System.out.printf(Locale.ROOT, "%-18s %8s %8s %8s %8s%n", "threads x callers", "1", "4", "8", "16");
    for (int[] config : new int[][] {{1, 1}, {2, 1}, {1, 2}}) {
      try (TfDetector detector = new TfDetector(model, config[0], null)) {
        StringBuilder row = new StringBuilder(String.format(Locale.ROOT, "%-18s", config[0] + " x " + config[1]));
        for (int batch : new int[] {1, 4, 8, 16}) {
          double ips = throughput(detector, jpegs, batch, config[1]);
          if (ips > bestThroughput) {
            bestThroughput = ips;
            bestConfiguration = config[0] + " TF thread(s) x " + config[1] + " caller(s), batch " + batch;
          }
          row.append(String.format(Locale.ROOT, " %8.1f", ips));
        }
        System.out.println(row);
      }
    }
    System.out.printf(Locale.ROOT, "best throughput: %.1f images/s (%s)%n", bestThroughput, bestConfiguration);
    if (soak > 0) {
      soak(jpegs);
    }
    return 0;
  }

  private double throughput(TfDetector detector, List<byte[]> jpegs, int batch, int callers) throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(callers);
    try {
      long deadline = System.nanoTime() + seconds * 1_000_000_000L;
      List<Future<Integer>> counts = new ArrayList<>();
      for (int c = 0; c < callers; c++) {
        int offset = c * 17;
        counts.add(pool.submit(() -> {
          int done = 0;
          int k = offset;
          while (System.nanoTime() < deadline) {
            List<BufferedImage> imgs = new ArrayList<>(batch);
            for (int b = 0; b < batch; b++) {
              imgs.add(detector.decode(jpegs.get(k++ % jpegs.size())));
            }
            detector.detect(imgs);
            done += batch;
          }
          return done;
        }));
      }
      long start = System.nanoTime();
      int total = 0;
      for (Future<Integer> f : counts) {
        total += f.get();
      }
      return total / ((System.nanoTime() - start) / 1e9);
    } finally {
      pool.shutdown();
    }
  }

  private void soak(List<byte[]> jpegs) throws Exception {
    try (TfDetector detector = new TfDetector(model, 0, null)) {
      long first = 0;
      for (int i = 1; i <= soak; i++) {
        detector.detect(List.of(detector.decode(jpegs.get(i % jpegs.size()))));
        if (i == Math.min(1000, soak) || i % 2000 == 0 || i == soak) {
          long rss = rssKb();
          if (first == 0) {
            first = rss;
          }
          System.out.printf(Locale.ROOT, "after %6d inferences: RSS %d MiB (%+.1f %% since %d)%n", i, rss / 1024,
              100.0 * (rss - first) / first, Math.min(1000, soak));
        }
      }
    }
  }

  static long rssKb() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", ""));
      }
    }
    return -1;
  }
}
