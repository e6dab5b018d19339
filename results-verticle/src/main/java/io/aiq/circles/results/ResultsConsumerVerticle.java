package io.aiq.circles.results;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.messaging.ConsumerVerticle;
import io.aiq.circles.messaging.EventTracing;
import io.aiq.circles.messaging.Outages;
import io.aiq.circles.persistence.ResultRepository;
import io.aiq.circles.persistence.ResultRepository.Outcome;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Applies the detection events to PostgreSQL, a polled batch in one transaction (one record at a
 * time, in partition order, each in its own transaction, where a batch cannot be or failed), and
 * commits the records' offsets only after their transaction committed. Writes are
 * idempotent, so a redelivered event changes nothing. A result for a job deleted with its image
 * meanwhile is skipped and committed. A record that can never be applied (unreadable,
 * for an unknown job, refused by a constraint) goes to the dead-letter topic at once; one that keeps
 * failing for a reason of its own goes there after {@code kafka.max-record-attempts}; a database
 * that is away stops the loop at that record until it is back, with a capped back-off, uncounted.
 */
public final class ResultsConsumerVerticle extends ConsumerVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(ResultsConsumerVerticle.class);

  private final ResultRepository repository;

  public ResultsConsumerVerticle(AppConfig config, Pool pool, MeterRegistry registry) {
    super(config, registry, Role.RESULTS.wire());
    this.repository = new ResultRepository(pool);
  }

  @Override
  protected List<String> subscriptions() {
    return topics.results();
  }

  @Override
  protected int maxPollRecords() {
    return config.results().batchSize();
  }

  @Override
  protected Backoff backoff() {
    return new Backoff(config.results().retryBackoffMs(), config.results().retryBackoffMaxMs());
  }

  /**
   * A polled batch in one transaction ({@link ResultRepository#applyBatch}) when it can be: every
   * record readable and no job twice in it the same way. Otherwise, or when the batch's transaction
   * fails for a reason of its own, the records go one at a time ({@link #from}), which finds the one
   * at fault. With tracing on they always go one at a time, so that each record's statements are
   * spans under its own processing.
   */
  @Override
  protected Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    List<Object> events = records.size() < 2 || EventTracing.of(vertx).enabled() ? null : parse(records);
    if (events == null || !ResultRepository.batchable(events)) {
      return from(records, 0);
    }
    return repository.applyBatch(events).transform(ar -> {
      if (ar.failed()) {
        if (isOutage(ar.cause())) {
          return Future.succeededFuture(ConsumerLoop.Handled.upTo(0, ar.cause()));
        }
        LOG.debug("results: a batch of {} failed ({}); applying its records one at a time", records.size(),
            ar.cause().toString());
        return from(records, 0);
      }
      List<Future<?>> deadLetters = new ArrayList<>();
      for (int i = 0; i < records.size(); i++) {
        Outcome outcome = ar.result().get(i);
        if (outcome == Outcome.APPLIED) {
          registry.counter("aiq_jobs_transitions_total", "status", label(records.get(i).topic())).increment();
        } else if (outcome == Outcome.UNKNOWN_JOB) {
          deadLetters.add(deadLetter(records.get(i), "unknown_job", "no job with this id exists", 1));
        } else if (outcome == Outcome.DELETED_JOB) {
          registry.counter("aiq_results_skipped_total", "reason", "image_deleted").increment();
        }
      }
      // a dead letter the broker did not take: the batch comes again, and changes nothing the second time
      return Future.all(deadLetters).map(v -> ConsumerLoop.Handled.all(records))
          .otherwise(e -> ConsumerLoop.Handled.upTo(0, e));
    });
  }

  /** The batch's events, or null when one of its records cannot be read (one at a time deals with it). */
  private List<Object> parse(List<KafkaConsumerRecord<String, Buffer>> records) {
    List<Object> events = new ArrayList<>(records.size());
    for (KafkaConsumerRecord<String, Buffer> record : records) {
      try {
        events.add(event(record));
      } catch (RuntimeException e) {
        return null;
      }
    }
    return events;
  }

  private String label(String topic) {
    return topic.equals(topics.detectionsCompleted()) ? "succeeded"
        : topic.equals(topics.detectionsFailed()) ? "failed" : "processing";
  }

  private Future<ConsumerLoop.Handled> from(List<KafkaConsumerRecord<String, Buffer>> records, int i) {
    if (i == records.size()) {
      return Future.succeededFuture(ConsumerLoop.Handled.all(records));
    }
    KafkaConsumerRecord<String, Buffer> record = records.get(i);
    // with tracing on, the record's statements are spans under its process span
    return EventTracing.of(vertx).within(record, () -> apply(record))
        .compose(outcome -> {
          if (outcome == Outcome.UNKNOWN_JOB) {
            return deadLetter(record, "unknown_job", "no job with this id exists", 1).mapEmpty();
          }
          if (outcome == Outcome.DELETED_JOB) {
            // its image was deleted meanwhile: nothing to write; committed like any applied record
            LOG.debug("results: {}@{}/{} is for a job deleted with its image: skipped", record.topic(),
                record.partition(), record.offset());
            registry.counter("aiq_results_skipped_total", "reason", "image_deleted").increment();
          }
          return Future.<Void>succeededFuture();
        })
        .transform(ar -> {
          if (ar.succeeded()) {
            return from(records, i + 1);
          }
          Throwable e = ar.cause();
          if (isPermanent(e)) {
            if (e instanceof InvalidEventException) {
              return deadLetter(record, InvalidEventException.REASON, e.getMessage(), 1).compose(v -> from(records, i + 1));
            }
            // the database refuses this result for good: the job must not wait for the sweeper's
            // timeouts (tens of minutes) to end, so it ends failed now, like a record given up
            return deadLetter(record, "rejected_by_database", e.getMessage(), 1)
                .compose(v -> failJob(record, 1))
                .compose(v -> from(records, i + 1));
          }
          return Future.succeededFuture(ConsumerLoop.Handled.upTo(i, e));
        });
  }

  /**
   * The database away (connection refused or lost, the pool's wait timed out, the server shutting
   * down or refusing connections) or the broker away: not the record's fault, so not counted.
   */
  @Override
  protected boolean isOutage(Throwable e) {
    return isDatabaseOrBrokerOutage(e);
  }

  static boolean isDatabaseOrBrokerOutage(Throwable e) {
    if (e instanceof PgException pg && pg.getSqlState() != null) {
      String cls = pg.getSqlState().substring(0, 2);
      return cls.equals("08") || cls.equals("53") || pg.getSqlState().startsWith("57P");
    }
    return Outages.isKafkaOutage(e);
  }

  /**
   * A record that failed {@code kafka.max-record-attempts} times for a reason of its own (a
   * serialization failure, a statement the database keeps refusing) was dead-lettered; its job is
   * marked failed if the database takes that.
   */
  @Override
  protected Future<?> failJob(KafkaConsumerRecord<String, Buffer> record, int attempts) {
    String jobId;
    try {
      jobId = new io.vertx.core.json.JsonObject(record.value()).getString("jobId");
      UUID.fromString(jobId);
    } catch (RuntimeException e) {
      return Future.succeededFuture();
    }
    return repository.failed(new DetectionFailed(jobId, null, DetectionFailed.PROCESSING_FAILED,
            "the job's result could not be recorded (" + attempts + " attempts)", java.time.Instant.now()))
        .otherwise(e -> {
          LOG.warn("results: job {} could not be marked failed: {}", jobId, e.toString());
          return null;
        });
  }

  private Future<Outcome> apply(KafkaConsumerRecord<String, Buffer> record) {
    try {
      Object event = event(record);
      Future<Outcome> outcome = event instanceof DetectionsCompleted c ? repository.completed(c)
          : event instanceof DetectionFailed f ? repository.failed(f) : repository.started((DetectionStarted) event);
      return outcome.onSuccess(o -> {
        if (o == Outcome.APPLIED) {
          registry.counter("aiq_jobs_transitions_total", "status", label(record.topic())).increment();
        }
      });
    } catch (InvalidEventException e) {
      return Future.failedFuture(e);
    } catch (IllegalArgumentException e) {
      // e.g. a job id that is not a UUID
      return Future.failedFuture(new InvalidEventException(e.getMessage(), e));
    }
  }

  /** The record's event, by its topic: the one place a topic names its event type. */
  private Object event(KafkaConsumerRecord<String, Buffer> record) {
    String topic = record.topic();
    if (topic.equals(topics.detectionsCompleted())) {
      return DetectionsCompleted.fromJson(record.value());
    }
    if (topic.equals(topics.detectionsFailed())) {
      return DetectionFailed.fromJson(record.value());
    }
    if (topic.equals(topics.detectionsStarted())) {
      return DetectionStarted.fromJson(record.value());
    }
    throw new InvalidEventException("no handler for topic " + topic);
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
}
