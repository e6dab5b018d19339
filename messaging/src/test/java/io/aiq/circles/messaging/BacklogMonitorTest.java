package io.aiq.circles.messaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import io.aiq.circles.config.ConfigLoader;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The capacity behind "seconds of work": measured only while the consumers were busy. */
class BacklogMonitorTest {
  private static final long SECOND = TimeUnit.SECONDS.toNanos(1);
  private final Vertx vertx = Vertx.vertx();
  private final BacklogMonitor monitor;

  BacklogMonitorTest() throws Exception {
    JsonObject overrides = new JsonObject().put("kafka", new JsonObject().put("bootstrap", "127.0.0.1:1"));
    monitor = new BacklogMonitor(vertx, ConfigLoader.load(vertx, overrides).await(10, TimeUnit.SECONDS).kafka(), 1000);
  }

  @AfterEach
  void close() {
    monitor.close();
    vertx.close();
  }

  @Test
  void while_the_consumers_stay_busy_the_capacity_is_the_rate_their_offsets_advance() {
    long t0 = System.nanoTime() - BacklogMonitor.WINDOW * SECOND;
    for (int i = 0; i < BacklogMonitor.WINDOW; i++) {
      monitor.recordForTest(t0 + i * SECOND, 1000 + 80L * i, 400);
    }
    BacklogMonitor.Backlog b = monitor.latest();
    assertThat(b.jobs()).isEqualTo(400);
    assertThat(b.capacityPerSecond()).isCloseTo(80, within(0.01));
    assertThat(b.secondsOfWork()).isCloseTo(5, within(0.01));
  }

  @Test
  void a_reading_older_than_a_few_probes_is_no_reading() {
    monitor.recordForTest(System.nanoTime() - 60 * SECOND, 0, 5);
    assertThat(monitor.latest()).isNull();
  }

  @Test
  void an_idle_window_measures_the_arrival_rate_and_is_not_taken_as_capacity() {
    long t0 = System.nanoTime();
    for (int i = 0; i < BacklogMonitor.WINDOW; i++) {
      monitor.recordForTest(t0 + i * SECOND / 10, 100L * i, 200);
    }
    double busy = monitor.latest().capacityPerSecond();
    assertThat(busy).isCloseTo(1000, within(1.0));
    // then the consumers catch up: the lag drops and offsets crawl at the arrival rate
    for (int i = 0; i < BacklogMonitor.WINDOW; i++) {
      monitor.recordForTest(t0 + (BacklogMonitor.WINDOW + i) * SECOND / 10, 500L + i, 2);
    }
    assertThat(monitor.latest().capacityPerSecond()).isEqualTo(busy);
    assertThat(monitor.latest().secondsOfWork()).isCloseTo(0.002, within(0.001));
  }

  @Test
  void before_any_busy_window_the_capacity_is_unknown() {
    monitor.recordForTest(System.nanoTime(), 0, 10_000);
    assertThat(monitor.latest().capacityPerSecond()).isZero();
    assertThat(monitor.latest().secondsOfWork()).isNaN();
  }
}
