package io.aiq.circles.inference;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.contracts.events.JobCancelled;
import io.aiq.circles.messaging.KafkaClients;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.common.PartitionInfo;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The jobs cancelled lately ({@code aiq.jobs.cancelled}), so inference skips their
 * {@code ImageSubmitted} instead of running the model for nothing.
 *
 * <p>Every inference instance must see every cancellation, whichever partitions of the submissions it
 * holds, so this is not the inference group: each instance assigns itself every partition of the
 * topic (no group membership, so no join to wait for: on a broker with the default
 * {@code group.initial.rebalance.delay.ms} a new group's first join alone takes three seconds),
 * reads from the earliest offset the topic keeps, and never commits. Partitions added to the
 * topic later are picked up within {@link #PARTITION_CHECK_MS}. Cancellations
 * older than {@link #TTL} are of jobs long gone from the submissions backlog and are not kept; at most
 * {@link #MAX_ENTRIES} are kept, the oldest dropped first. A cancellation this set has not seen yet
 * only costs the model's work: the job's row is already {@code cancelled}, and the results writer
 * never moves it out of that status.
 *
 * <p>State is touched on the owning verticle's event loop only (the consumer's handlers run there).
 */
final class CancelledJobs {
  private static final Logger LOG = LoggerFactory.getLogger(CancelledJobs.class);
  static final Duration TTL = Duration.ofDays(1);
  static final int MAX_ENTRIES = 100_000;
  /** Reading up to the end slower than this does not hold up the start (a broker away: the loop copes). */
  private static final long CATCH_UP_WAIT_MS = 10_000;
  /** How often the topic's partitions are looked up again (a topic grown by an operator). */
  static final long PARTITION_CHECK_MS = 60_000;

  private final Vertx vertx;
  private final AppConfig.Kafka kafka;
  private final MeterRegistry registry;
  /** Job id → when it was cancelled, in arrival order (nearly the cancellation order). */
  private final Map<UUID, Instant> cancelled = new LinkedHashMap<>();
  private KafkaConsumer<String, Buffer> consumer;
  private final Set<TopicPartition> assigned = new HashSet<>();
  private final long partitionCheckMs;
  private long partitionCheck = -1;
  private Gauge size;

  CancelledJobs(Vertx vertx, AppConfig.Kafka kafka, MeterRegistry registry) {
    this(vertx, kafka, registry, PARTITION_CHECK_MS);
  }

  CancelledJobs(Vertx vertx, AppConfig.Kafka kafka, MeterRegistry registry, long partitionCheckMs) {
    this.vertx = vertx;
    this.kafka = kafka;
    this.registry = registry;
    this.partitionCheckMs = partitionCheckMs;
  }

  /**
   * Assigns every partition from its beginning; completes once this consumer has read the topic up
   * to its end as it was then (or after a few seconds without), so the submissions consumed after it
   * see every cancellation made before this instance started.
   */
  Future<Void> start(String role) {
    String id = UUID.randomUUID().toString().substring(0, 8);
    Map<String, String> config = new HashMap<>(KafkaClients.consumerConfig(kafka, kafka.group(role) + "-cancellations-" + id,
        "aiq-" + role + "-cancellations-" + id, 500));
    // partitionsFor answers from the client's metadata, refreshed this often: a new partition shows
    config.put("metadata.max.age.ms", String.valueOf(partitionCheckMs));
    consumer = KafkaConsumer.create(vertx, config);
    // the calls below (partitionsFor, endOffsets, position) wait on the consumer's thread behind the
    // poll in progress: Vert.x's default of a second per poll made the start take seconds
    consumer.pollTimeout(Duration.ofMillis(100));
    size = Gauge.builder("aiq_inference_cancelled_jobs", this, c -> c.cancelled.size())
        .description("Cancelled jobs this inference consumer knows of (skipped if their submission comes)")
        .tag("consumer", id).register(registry);
    Promise<Void> caughtUp = Promise.promise();
    long timer = vertx.setTimer(CATCH_UP_WAIT_MS, t -> {
      if (caughtUp.tryComplete()) {
        LOG.warn("the cancellations topic is not read up to its end yet; cancelled jobs may be run until it is");
      }
    });
    consumer.exceptionHandler(e -> LOG.warn("reading cancellations: {}", e.toString()));
    consumer.handler(this::record);
    assignNew()
        .compose(partitions -> consumer.endOffsets(partitions))
        .onSuccess(ends -> awaitPositions(ends, caughtUp))
        .onFailure(e -> {
          LOG.warn("reading cancellations: {}", e.toString());
          caughtUp.tryComplete();
        });
    partitionCheck = vertx.setPeriodic(partitionCheckMs, t -> assignNew()
        .onFailure(e -> LOG.debug("checking the cancellations topic's partitions: {}", e.toString())));
    return caughtUp.future().onComplete(ar -> vertx.cancelTimer(timer));
  }

  /** Adds the topic's partitions not assigned yet, each read from its beginning; the partitions added. */
  private Future<Set<TopicPartition>> assignNew() {
    String topic = kafka.topics().jobsCancelled();
    return consumer.partitionsFor(topic).compose(infos -> {
      Set<TopicPartition> added = new HashSet<>();
      for (PartitionInfo info : infos) {
        TopicPartition tp = new TopicPartition(topic, info.getPartition());
        if (!assigned.contains(tp)) {
          added.add(tp);
        }
      }
      if (added.isEmpty()) {
        return Future.succeededFuture(added);
      }
      Set<TopicPartition> all = new HashSet<>(assigned);
      all.addAll(added);
      return consumer.assign(all)
          .compose(v -> consumer.seekToBeginning(added))
          .map(v -> {
            assigned.addAll(added);
            return added;
          });
    });
  }

  /** Completes {@code caughtUp} once every partition's position reached its end offset (checked every 50 ms). */
  private void awaitPositions(Map<TopicPartition, Long> ends, Promise<Void> caughtUp) {
    if (caughtUp.future().isComplete()) {
      return;
    }
    java.util.List<Future<Boolean>> reached = new java.util.ArrayList<>();
    ends.forEach((tp, end) -> reached.add(consumer.position(tp).map(position -> position >= end)));
    Future.all(reached).onComplete(ar -> {
      if (ar.succeeded() && reached.stream().allMatch(Future::result)) {
        caughtUp.tryComplete();
      } else {
        vertx.setTimer(50, t -> awaitPositions(ends, caughtUp));
      }
    });
  }

  Future<Void> stop() {
    vertx.cancelTimer(partitionCheck);
    if (size != null) {
      registry.remove(size);
    }
    return consumer == null ? Future.succeededFuture() : consumer.close().otherwise(e -> null);
  }

  boolean contains(String jobId) {
    try {
      return cancelled.containsKey(UUID.fromString(jobId));
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private void record(KafkaConsumerRecord<String, Buffer> r) {
    JobCancelled event;
    try {
      event = JobCancelled.fromJson(r.value());
    } catch (InvalidEventException e) {
      LOG.debug("ignoring an unreadable cancellation at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
          e.getMessage());
      return;
    }
    Instant cutOff = Instant.now().minus(TTL);
    if (event.cancelledAt().isBefore(cutOff)) {
      return;
    }
    try {
      cancelled.put(UUID.fromString(event.jobId()), event.cancelledAt());
    } catch (IllegalArgumentException e) {
      return;
    }
    // expire from the oldest: arrival order is nearly cancellation order
    for (Iterator<Map.Entry<UUID, Instant>> it = cancelled.entrySet().iterator(); it.hasNext(); ) {
      Map.Entry<UUID, Instant> oldest = it.next();
      if (cancelled.size() > MAX_ENTRIES || oldest.getValue().isBefore(cutOff)) {
        it.remove();
      } else {
        break;
      }
    }
  }
}
