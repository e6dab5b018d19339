package io.aiq.circles.results;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.config.AppConfig;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.messaging.KafkaClients;
import io.aiq.circles.messaging.KafkaMetrics;
import io.aiq.circles.messaging.Outages;
import io.aiq.circles.persistence.ResultRepository;
import io.aiq.circles.persistence.ResultRepository.Outcome;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the detection events to PostgreSQL, one record at a time in partition order, each in its
 * own transaction, and commits a record's offset only after its transaction committed. Writes are
 * idempotent, so a redelivered event changes nothing. A record that can never be applied (unreadable,
 * for an unknown job, refused by a constraint) goes to the dead-letter topic at once; one that keeps
 * failing for a reason of its own goes there after {@code kafka.max-record-attempts}; a database
 * that is away stops the loop at that record until it is back, with a capped back-off, uncounted.
 */
public final class ResultsConsumerVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(ResultsConsumerVerticle.class);
  static final String ROLE = "results";

  private final AppConfig config;
  private final Pool pool;
  private final MeterRegistry registry;
  private Topics topics;
  private ResultRepository repository;
  private EventPublisher publisher;
  private ConsumerLoop loop;
  private AutoCloseable consumerMetrics;

  public ResultsConsumerVerticle(AppConfig config, Pool pool, MeterRegistry registry) {
    this.config = config;
    this.pool = pool;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    topics = config.kafka().topics();
    repository = new ResultRepository(pool);
    String clientId = "aiq-results-" + UUID.randomUUID().toString().substring(0, 8);
    publisher = new EventPublisher(KafkaClients.producer(vertx, config.kafka(), clientId), "/aiq-circles/results");
    KafkaConsumer<String, Buffer> consumer = KafkaClients.consumer(vertx, config.kafka(), config.kafka().group(ROLE),
        clientId, config.results().batchSize());
    consumerMetrics = KafkaMetrics.bind(consumer, registry, ROLE);
    loop = new ConsumerLoop(vertx, consumer, topics.results(), config.kafka().pollTimeout(), this::handle,
        new Backoff(config.results().retryBackoffMs(), config.results().retryBackoffMaxMs()),
        new ConsumerLoop.RetryPolicy(config.kafka().maxRecordAttempts(), ResultsConsumerVerticle::isOutage),
        this::giveUp, ROLE);
    return loop.start();
  }

  @Override
  public Future<?> stop() {
    return loop.stop().eventually(this::release);
  }

  /** Stops consuming at once, without committing the batch in hand, as a crash would (for tests). */
  public Future<Void> abort() {
    return loop.abort().eventually(this::release);
  }

  private Future<Void> release() {
    try {
      consumerMetrics.close();
    } catch (Exception e) {
      LOG.debug("closing consumer metrics: {}", e.toString());
    }
    return publisher.close();
  }

  Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    return from(records, 0);
  }

  private Future<ConsumerLoop.Handled> from(List<KafkaConsumerRecord<String, Buffer>> records, int i) {
    if (i == records.size()) {
      return Future.succeededFuture(ConsumerLoop.Handled.all(records));
    }
    KafkaConsumerRecord<String, Buffer> record = records.get(i);
    return apply(record)
        .compose(outcome -> outcome == Outcome.UNKNOWN_JOB
            ? deadLetter(record, "unknown_job", "no job with this id exists") : Future.succeededFuture())
        .transform(ar -> {
          if (ar.succeeded()) {
            return from(records, i + 1);
          }
          Throwable e = ar.cause();
          if (isPermanent(e)) {
            return deadLetter(record, e instanceof InvalidEventException ? "invalid_event" : "rejected_by_database",
                e.getMessage()).compose(v -> from(records, i + 1));
          }
          return Future.succeededFuture(ConsumerLoop.Handled.upTo(i, e));
        });
  }

  /**
   * The database away (connection refused or lost, the pool's wait timed out, the server shutting
   * down or refusing connections) or the broker away: not the record's fault, so not counted.
   */
  static boolean isOutage(Throwable e) {
    if (e instanceof PgException pg && pg.getSqlState() != null) {
      String cls = pg.getSqlState().substring(0, 2);
      return cls.equals("08") || cls.equals("53") || pg.getSqlState().startsWith("57P");
    }
    return Outages.isKafkaOutage(e);
  }

  /**
   * A record that failed {@code kafka.max-record-attempts} times for a reason of its own (a
   * serialization failure, a statement the database keeps refusing): it goes to the dead-letter
   * topic, and its job is marked failed if the database takes that.
   */
  private Future<?> giveUp(KafkaConsumerRecord<String, Buffer> record, Throwable cause, int attempts) {
    registry.counter("aiq_dead_letters_total", "role", ROLE, "reason", DetectionFailed.PROCESSING_FAILED).increment();
    Future<?> dead = publisher.deadLetter(topics.deadLetter(), record, config.kafka().group(ROLE),
        DetectionFailed.PROCESSING_FAILED, "gave up after " + attempts + " attempts: " + cause.getClass().getSimpleName(),
        attempts);
    return dead.compose(v -> {
      try {
        String jobId = new io.vertx.core.json.JsonObject(record.value()).getString("jobId");
        return repository.failed(new DetectionFailed(jobId, null, DetectionFailed.PROCESSING_FAILED,
                "the job's result could not be recorded (" + attempts + " attempts)", java.time.Instant.now()))
            .<Void>mapEmpty()
            .otherwise(e -> null);
      } catch (RuntimeException e) {
        return Future.succeededFuture();
      }
    });
  }

  private Future<Outcome> apply(KafkaConsumerRecord<String, Buffer> record) {
    try {
      String topic = record.topic();
      Future<Outcome> outcome;
      String label;
      if (topic.equals(topics.detectionsCompleted())) {
        outcome = repository.completed(DetectionsCompleted.fromJson(record.value()));
        label = "succeeded";
      } else if (topic.equals(topics.detectionsFailed())) {
        outcome = repository.failed(DetectionFailed.fromJson(record.value()));
        label = "failed";
      } else if (topic.equals(topics.detectionsStarted())) {
        outcome = repository.started(DetectionStarted.fromJson(record.value()));
        label = "processing";
      } else {
        return Future.failedFuture(new InvalidEventException("no handler for topic " + topic));
      }
      return outcome.onSuccess(o -> {
        if (o == Outcome.APPLIED) {
          registry.counter("aiq_jobs_transitions_total", "status", label).increment();
        }
      });
    } catch (InvalidEventException e) {
      return Future.failedFuture(e);
    } catch (IllegalArgumentException e) {
      // e.g. a job id that is not a UUID
      return Future.failedFuture(new InvalidEventException(e.getMessage(), e));
    }
  }

  /** Errors no retry can mend: the event itself, or a constraint or data error of the database. */
  private static boolean isPermanent(Throwable e) {
    if (e instanceof InvalidEventException) {
      return true;
    }
    if (e instanceof PgException pg && pg.getSqlState() != null) {
      String cls = pg.getSqlState().substring(0, 2);
      return cls.equals("22") || cls.equals("23");
    }
    return false;
  }

  private Future<Void> deadLetter(KafkaConsumerRecord<String, Buffer> record, String reason, String message) {
    LOG.warn("results: dead-lettering {}-{}@{}: {}: {}", record.topic(), record.partition(), record.offset(), reason, message);
    registry.counter("aiq_dead_letters_total", "role", ROLE, "reason", reason).increment();
    return publisher.deadLetter(topics.deadLetter(), record, config.kafka().group(ROLE), reason, message, 1).mapEmpty();
  }
}
