package io.aiq.circles.messaging;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A consumer of the pipeline, from start to stop: its Kafka consumer (auto-commit off) in the role's
 * group, the producer it answers and dead-letters with, the {@link ConsumerLoop} with the role's
 * back-off and the bound on attempts per record, and the dead-letter topic. A role says only what it
 * consumes ({@link #subscriptions}), how it handles a batch ({@link #handle}), what a failure of a
 * dependency looks like ({@link #isOutage}) and how a record's job ends when the record is given up
 * ({@link #failJob}).
 *
 * <p>Every dead letter goes through {@link #deadLetter}, so they are all counted under one metric,
 * {@code aiq_dead_letters_total{role, reason}}.
 */
public abstract class ConsumerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerVerticle.class);

  protected final AppConfig config;
  protected final MeterRegistry registry;
  private final String role;
  protected Topics topics;
  protected EventPublisher publisher;
  private ConsumerLoop loop;
  private AutoCloseable consumerMetrics;

  protected ConsumerVerticle(AppConfig config, MeterRegistry registry, String role) {
    this.config = config;
    this.registry = registry;
    this.role = role;
  }

  /** The topics this role consumes. */
  protected abstract List<String> subscriptions();

  /** Records one poll may return (and the most one batch holds). */
  protected abstract int maxPollRecords();

  /** The back-off between tries of a failed record. */
  protected abstract Backoff backoff();

  /** Handles a batch in record order (see {@link ConsumerLoop.BatchHandler}). */
  protected abstract Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records);

  /**
   * Ends the job of a record that was given up, after it was dead-lettered ({@code
   * processing_failed}); a record that names no job ends nothing.
   */
  protected abstract Future<?> failJob(KafkaConsumerRecord<String, Buffer> record, int attempts);

  /** Failures of a dependency rather than of the record: retried without counting. */
  protected boolean isOutage(Throwable failure) {
    return Outages.isKafkaOutage(failure);
  }

  /** Resources of the role made before consuming starts (worker threads, the image store). */
  protected Future<Void> setUp() {
    return Future.succeededFuture();
  }

  /** Last chance to adjust the loop (a batch window) before it starts. */
  protected ConsumerLoop configure(ConsumerLoop loop) {
    return loop;
  }

  /** Releases what {@link #setUp} made, after the loop stopped. */
  protected void tearDown() {
  }

  protected final String role() {
    return role;
  }

  @Override
  public final Future<?> start() {
    topics = config.kafka().topics();
    String clientId = "aiq-" + role + "-" + UUID.randomUUID().toString().substring(0, 8);
    publisher = new EventPublisher(KafkaClients.producer(vertx, config.kafka(), clientId, KafkaClients.BATCH_LINGER_MS),
        "/aiq-circles/" + role);
    return setUp().compose(v -> {
      KafkaConsumer<String, Buffer> consumer = KafkaClients.consumer(vertx, config.kafka(), config.kafka().group(role),
          clientId, maxPollRecords());
      consumerMetrics = KafkaMetrics.bind(consumer, registry, role);
      loop = configure(new ConsumerLoop(vertx, consumer, subscriptions(), config.kafka().pollTimeout(), this::handle,
          backoff(), new ConsumerLoop.RetryPolicy(config.kafka().maxRecordAttempts(), this::isOutage), this::giveUp,
          role));
      return loop.start();
    });
  }

  /** Finishes the batch in hand (committing it), then releases everything. */
  @Override
  public final Future<?> stop() {
    return loop == null ? release() : loop.stop().eventually(this::release);
  }

  /** Stops consuming at once, without committing the batch in hand, as a crash would (for tests). */
  public final Future<Void> abort() {
    return loop == null ? release() : loop.abort().eventually(this::release);
  }

  private Future<Void> release() {
    if (consumerMetrics != null) {
      try {
        consumerMetrics.close();
      } catch (Exception e) {
        LOG.debug("{}: closing consumer metrics: {}", role, e.toString());
      }
    }
    tearDown();
    return publisher.close();
  }

  /**
   * Keeps a record no retry can mend in the dead-letter topic, with the reason, its origin and the
   * attempts in its headers; counted as {@code aiq_dead_letters_total{role, reason}}.
   */
  protected final Future<?> deadLetter(KafkaConsumerRecord<String, Buffer> record, String reason, String message,
                                       int attempts) {
    LOG.warn("{}: dead-lettering {}-{}@{}: {}: {}", role, record.topic(), record.partition(), record.offset(), reason,
        message);
    registry.counter("aiq_dead_letters_total", "role", role, "reason", reason).increment();
    return publisher.deadLetter(topics.deadLetter(), record, config.kafka().group(role), reason, message, attempts);
  }

  /** {@link ConsumerLoop.GiveUp}: dead-letter first, so the record is kept whatever happens to the job. */
  private Future<?> giveUp(KafkaConsumerRecord<String, Buffer> record, Throwable cause, int attempts) {
    return deadLetter(record, PROCESSING_FAILED, "gave up after " + attempts + " attempts: "
        + cause.getClass().getSimpleName(), attempts)
        .compose(v -> failJob(record, attempts));
  }

  /** The reason of a record given up after too many attempts (a DetectionFailed code too). */
  public static final String PROCESSING_FAILED = io.aiq.circles.contracts.events.DetectionFailed.PROCESSING_FAILED;
}
