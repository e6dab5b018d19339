package io.aiq.circles.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** What the pipeline benchmark reads from the service's metrics and job answers. */
class MetricsScraperTest {
  private static final String METRICS = String.join("\n",
      "# HELP aiq_jobs_transitions_total Jobs that reached a status",
      "aiq_jobs_transitions_total{status=\"processing\"} 40.0",
      "aiq_jobs_transitions_total{status=\"succeeded\"} 30.0",
      "aiq_jobs_transitions_total{status=\"failed\"} 2.0",
      "jvm_memory_committed_bytes{area=\"heap\",id=\"G1 Eden Space\"} 1.048576E8",
      "jvm_memory_committed_bytes{area=\"heap\",id=\"G1 Old Gen\"} 5.24288E7",
      "jvm_memory_committed_bytes{area=\"nonheap\",id=\"Metaspace\"} 6.291456E7",
      "jvm_buffer_memory_used_bytes{id=\"direct\"} 2097152.0",
      "jvm_buffer_memory_used_bytes{id=\"mapped\"} 1048576.0");

  @Test
  void completed_jobs_are_the_succeeded_and_the_failed() {
    assertThat(MetricsScraper.completedJobs(METRICS)).isEqualTo(32);
    assertThat(MetricsScraper.completedJobs("")).isZero();
  }

  @Test
  void memory_splits_the_rss_into_heap_other_pools_direct_buffers_and_the_rest() {
    MetricsScraper.Memory m = MetricsScraper.memory(METRICS, 400);

    assertThat(m.heapMiB()).isCloseTo(150, within(1e-9));
    assertThat(m.nonHeapMiB()).isCloseTo(60, within(1e-9));
    assertThat(m.directMiB()).isCloseTo(2, within(1e-9));
    assertThat(m.outsideMiB()).isCloseTo(188, within(1e-9));
    assertThat(m.growthSince(MetricsScraper.memory(METRICS, 300)))
        .isEqualTo("heap committed +0 MiB, other JVM pools +0 MiB, direct buffers +0 MiB, "
            + "outside the JVM's accounts (TensorFlow, stacks, malloc) +100 MiB");
  }

  @Test
  void percentiles_are_nearest_rank_and_a_job_s_phases_come_from_its_timestamps() {
    double[] ms = {5, 1, 4, 2, 3, 10, 9, 8, 7, 6};
    assertThat(Stats.pct(ms, 0.5)).isEqualTo(5);
    assertThat(Stats.p3(ms)).isEqualTo("5 / 10 / 10");
    assertThat(Stats.pct(new double[0], 0.5)).isNaN();

    JsonObject job = new JsonObject().put("submittedAt", "2026-01-01T00:00:00Z")
        .put("startedAt", "2026-01-01T00:00:00.250Z");
    assertThat(Stats.millisBetween(job, "submittedAt", "startedAt")).isEqualTo(250);
    assertThat(Stats.millisBetween(job, "submittedAt", "finishedAt")).isZero();
  }
}
