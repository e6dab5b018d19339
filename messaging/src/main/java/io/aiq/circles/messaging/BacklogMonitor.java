package io.aiq.circles.messaging;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.kafka.admin.KafkaAdminClient;
import io.vertx.kafka.admin.OffsetSpec;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * How much work waits for the inference consumers, and how fast they take it: the group's lag on
 * {@code aiq.images.submitted} and the rate its committed offsets advance, read from the broker
 * every second. The broker is the one place every API process sees the same backlog, whatever the
 * number of replicas on either side.
 *
 * <p>The drain rate that estimates seconds of work is the one measured over the latest window in
 * which the consumers were busy throughout (the lag never fell below a batch or two): when they are
 * idle, the offsets advance at the arrival rate, which says nothing about what they could take.
 */
public final class BacklogMonitor {
  private static final Logger LOG = LoggerFactory.getLogger(BacklogMonitor.class);
  /** samples in the drain window, one per probe */
  static final int WINDOW = 5;
  /** a lag below this at any sample of a window means the consumers were not busy throughout */
  static final long BUSY_LAG = 16;

  /**
   * @param jobs records of aiq.images.submitted not yet committed by the inference group
   * @param capacityPerSecond the drain rate of the latest busy window; 0 while none was seen
   * @param measuredAtNanos {@link System#nanoTime()} of the probe
   */
  public record Backlog(long jobs, double capacityPerSecond, long measuredAtNanos) {
    /** The lag over the capacity; NaN while the capacity is unknown. */
    public double secondsOfWork() {
      return capacityPerSecond > 0 ? jobs / capacityPerSecond : Double.NaN;
    }
  }

  private record Sample(long nanos, long committed, long lag) {
  }

  private final Vertx vertx;
  private final KafkaAdminClient admin;
  private final String topic;
  private final String group;
  private final long intervalMs;
  private final Deque<Sample> window = new ArrayDeque<>();
  private volatile Backlog latest;
  private double capacity;
  private long timer = -1;
  private boolean probing;

  public BacklogMonitor(Vertx vertx, AppConfig.Kafka kafka, long intervalMs) {
    this.vertx = vertx;
    this.admin = KafkaAdminClient.create(vertx, KafkaClients.adminConfig(kafka));
    this.topic = kafka.topics().imagesSubmitted();
    this.group = kafka.group("inference");
    this.intervalMs = intervalMs;
  }

  public BacklogMonitor start() {
    probe();
    timer = vertx.setPeriodic(intervalMs, t -> probe());
    return this;
  }

  /** The latest reading, or null when there is none from the last few intervals (broker away). */
  public Backlog latest() {
    Backlog b = latest;
    if (b == null || System.nanoTime() - b.measuredAtNanos() > TimeUnit.MILLISECONDS.toNanos(intervalMs * 5)) {
      return null;
    }
    return b;
  }

  private void probe() {
    if (probing) {
      return;
    }
    probing = true;
    read().onComplete(ar -> {
      probing = false;
      if (ar.succeeded()) {
        record(ar.result());
      } else {
        LOG.debug("backlog probe failed: {}", ar.cause().toString());
      }
    });
  }

  private Future<Sample> read() {
    return admin.describeTopics(List.of(topic)).compose(described -> {
      Map<TopicPartition, OffsetSpec> ends = new HashMap<>();
      described.get(topic).getPartitions().forEach(p -> ends.put(new TopicPartition(topic, p.getPartition()), OffsetSpec.LATEST));
      return admin.listOffsets(ends).compose(end -> admin.listConsumerGroupOffsets(group).map(committed -> {
        long lag = 0;
        long done = 0;
        for (var e : end.entrySet()) {
          OffsetAndMetadata c = committed.get(e.getKey());
          long position = c == null ? 0 : c.getOffset();
          lag += Math.max(0, e.getValue().getOffset() - position);
          done += position;
        }
        return new Sample(System.nanoTime(), done, lag);
      }));
    }).timeout(Math.max(500, intervalMs * 2), TimeUnit.MILLISECONDS);
  }

  synchronized void record(Sample s) {
    window.addLast(s);
    while (window.size() > WINDOW) {
      window.removeFirst();
    }
    capacity = capacityOf(window, capacity);
    latest = new Backlog(s.lag(), capacity, s.nanos());
  }

  /** The drain rate of the window if the consumers were busy throughout it, else the previous one. */
  static double capacityOf(Deque<Sample> window, double previous) {
    if (window.size() < WINDOW || window.stream().anyMatch(s -> s.lag() < BUSY_LAG)) {
      return previous;
    }
    Sample first = window.getFirst();
    Sample last = window.getLast();
    double seconds = (last.nanos() - first.nanos()) / 1e9;
    return seconds > 0 ? Math.max(0, last.committed() - first.committed()) / seconds : previous;
  }

  /** For tests and benchmarks: a reading as the probe would record it. */
  void recordForTest(long nanos, long committed, long lag) {
    record(new Sample(nanos, committed, lag));
  }

  public Future<Void> close() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return admin.close();
  }
}
