package io.aiq.circles.eval.bench;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Locale;

/** Reads the measured service's own Prometheus metrics: jobs it finished, and what holds its memory. */
final class MetricsScraper {
  private final HttpClient http;
  private final String base;

  MetricsScraper(HttpClient http, String base) {
    this.http = http;
    this.base = base;
  }

  /** The text of {@code GET /metrics}. */
  String scrape() throws Exception {
    return http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).timeout(Duration.ofSeconds(30)).build(),
        HttpResponse.BodyHandlers.ofString()).body();
  }

  /** Jobs the results role has finished, from its own counter. */
  int completedJobs() throws Exception {
    return completedJobs(scrape());
  }

  /** The service's resident memory split by what holds it (see {@link Memory}). */
  Memory memory(long rssMiB) throws Exception {
    return memory(scrape(), rssMiB);
  }

  /** Succeeded plus failed jobs in a metrics text ({@code aiq_jobs_transitions_total{status=...}}). */
  static int completedJobs(String metrics) {
    double total = 0;
    for (String line : metrics.split("\n")) {
      if (line.startsWith("aiq_jobs_transitions_total{") && (line.contains("status=\"succeeded\"")
          || line.contains("status=\"failed\""))) {
        total += Double.parseDouble(line.substring(line.lastIndexOf(' ') + 1));
      }
    }
    return (int) total;
  }

  /** The JVM's committed heap and other pools and its direct buffers in a metrics text, beside the RSS. */
  static Memory memory(String metrics, long rssMiB) {
    double heap = 0;
    double nonHeap = 0;
    double direct = 0;
    for (String line : metrics.split("\n")) {
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

  private static double mib(String prometheusLine) {
    return Double.parseDouble(prometheusLine.substring(prometheusLine.lastIndexOf(' ') + 1)) / (1 << 20);
  }

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
}
