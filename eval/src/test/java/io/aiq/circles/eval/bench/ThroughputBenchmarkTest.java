package io.aiq.circles.eval.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.Map;
import org.junit.jupiter.api.Test;

/** The accept phases' "where a lone upload's time goes": stage means between two scrapes. */
class ThroughputBenchmarkTest {
  private static String scrape(long n, double store, double database, double publish, double ingest) {
    return String.join("\n",
        "# TYPE aiq_ingest_stage_seconds summary",
        "aiq_ingest_stage_seconds_count{stage=\"database\"} " + n,
        "aiq_ingest_stage_seconds_sum{stage=\"database\"} " + database,
        "aiq_ingest_stage_seconds_count{stage=\"publish\"} " + n,
        "aiq_ingest_stage_seconds_sum{stage=\"publish\"} " + publish,
        "aiq_ingest_stage_seconds_count{stage=\"store\"} " + n,
        "aiq_ingest_stage_seconds_sum{stage=\"store\"} " + store,
        "aiq_ingest_seconds_count{outcome=\"queued\"} " + n,
        "aiq_ingest_seconds_sum{outcome=\"queued\"} " + ingest,
        "aiq_ingest_seconds_count{outcome=\"duplicate\"} 7",
        "aiq_ingest_seconds_sum{outcome=\"duplicate\"} 3.5", "");
  }

  @Test
  void each_stage_mean_covers_only_the_uploads_between_the_two_scrapes() {
    String before = scrape(100, 0.1, 0.2, 0.3, 0.6);
    String after = scrape(300, 0.1 + 0.08, 0.2 + 0.3, 0.3 + 0.2, 0.6 + 0.6);
    Map<String, Double> means = ThroughputBenchmark.stageMeans(before, after);
    assertThat(means.get("store")).isCloseTo(0.4, within(1e-9));
    assertThat(means.get("database")).isCloseTo(1.5, within(1e-9));
    assertThat(means.get("publish")).isCloseTo(1.0, within(1e-9));
    assertThat(means.get("ingest")).isCloseTo(3.0, within(1e-9));
  }

  @Test
  void a_stage_nothing_went_through_has_no_mean_rather_than_zero() {
    String same = scrape(100, 0.1, 0.2, 0.3, 0.6);
    assertThat(ThroughputBenchmark.stageMeans(same, same).get("store")).isNaN();
    assertThat(ThroughputBenchmark.stageMeans("", same).get("database")).isCloseTo(2.0, within(1e-9));
  }
}
