package io.aiq.circles.messaging;

import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.common.TopicPartition;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.consumer.KafkaConsumerRecords;
import io.vertx.kafka.client.consumer.OffsetAndMetadata;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Poll, process, commit, repeat: the at-least-once loop every consumer of the pipeline runs.
 *
 * <p>Offsets are committed only for records the {@link BatchHandler} reports done, i.e. whose output
 * was acknowledged by the broker or whose database transaction committed. When a record fails for a
 * reason that may pass (broker or database away), the loop commits what was done, seeks back to the
 * failed record and tries again after an exponential back-off, so nothing is skipped and nothing is
 * polled past it. Poison records are the handler's business: it dead-letters them and counts them done.
 *
 * <p>Polling again only after the batch is finished is also the back-pressure: a slow detector or
 * database slows the loop, not memory.
 */
public final class ConsumerLoop {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

  /** Handles a batch in record order. */
  @FunctionalInterface
  public interface BatchHandler {
    /**
     * @return how many records, from the first, are done; fewer than all means the next one failed
     *     transiently and must be delivered again
     */
    Future<Integer> handle(List<KafkaConsumerRecord<String, Buffer>> records);
  }

  private final Vertx vertx;
  private final KafkaConsumer<String, Buffer> consumer;
  private final Collection<String> topics;
  private final Duration pollTimeout;
  private final BatchHandler handler;
  private final Backoff backoff;
  private final String name;
  private final Promise<Void> finished = Promise.promise();
  private volatile boolean running;
  private int windowRecords;
  private long windowMillis;

  public ConsumerLoop(Vertx vertx, KafkaConsumer<String, Buffer> consumer, Collection<String> topics,
                      Duration pollTimeout, BatchHandler handler, Backoff backoff, String name) {
    this.vertx = vertx;
    this.consumer = consumer;
    this.topics = topics;
    this.pollTimeout = pollTimeout;
    this.handler = handler;
    this.backoff = backoff;
    this.name = name;
  }

  /**
   * Makes each batch up to {@code maxRecords} records, or what arrived within {@code maxWait} of the
   * first: after a poll that brings fewer, the loop polls again until either is reached. Without a
   * window a batch is what one poll returns. {@code maxRecords} should not exceed the consumer's
   * {@code max.poll.records}; records polled beyond it are sought back and come in the next batch.
   */
  public ConsumerLoop withBatchWindow(int maxRecords, Duration maxWait) {
    this.windowRecords = maxRecords;
    this.windowMillis = maxWait.toMillis();
    return this;
  }

  public Future<Void> start() {
    consumer.exceptionHandler(e -> LOG.warn("{}: consumer error: {}", name, e.toString()));
    return consumer.subscribe(new LinkedHashSet<>(topics)).onSuccess(v -> {
      running = true;
      LOG.info("{}: consuming {}", name, topics);
      next();
    });
  }

  /** Finishes the batch in hand (committing it), then closes the consumer. */
  public Future<Void> stop() {
    if (!running) {
      return consumer.close();
    }
    running = false;
    return finished.future().compose(v -> consumer.close());
  }

  /**
   * Closes the consumer at once, without committing the batch in hand: what a crash does. Its
   * records are delivered again to whoever takes over the partitions.
   */
  public Future<Void> abort() {
    running = false;
    return consumer.close();
  }

  private void next() {
    if (!running) {
      finished.tryComplete();
      return;
    }
    consumer.poll(pollTimeout)
        .compose(this::fill)
        .compose(this::process)
        .onComplete(ar -> {
          long delay;
          if (ar.failed()) {
            delay = backoff.next();
            if (running) {
              LOG.warn("{}: poll failed, retrying in {} ms: {}", name, delay, ar.cause().toString());
            }
          } else {
            delay = ar.result();
          }
          if (delay > 0 && running) {
            vertx.setTimer(delay, t -> next());
          } else {
            next();
          }
        });
  }

  /** Completes a polled batch up to the window (see {@link #withBatchWindow}). */
  private Future<List<KafkaConsumerRecord<String, Buffer>>> fill(KafkaConsumerRecords<String, Buffer> polled) {
    List<KafkaConsumerRecord<String, Buffer>> records = new ArrayList<>(polled.size());
    for (int i = 0; i < polled.size(); i++) {
      records.add(polled.recordAt(i));
    }
    if (records.isEmpty() || windowRecords <= 0) {
      return Future.succeededFuture(records);
    }
    return fill(records, System.nanoTime() + windowMillis * 1_000_000);
  }

  private Future<List<KafkaConsumerRecord<String, Buffer>>> fill(List<KafkaConsumerRecord<String, Buffer>> records,
                                                                 long deadline) {
    long left = (deadline - System.nanoTime()) / 1_000_000;
    if (records.size() >= windowRecords || left <= 0 || !running) {
      return trim(records);
    }
    return consumer.poll(Duration.ofMillis(left))
        .compose(more -> {
          for (int i = 0; i < more.size(); i++) {
            records.add(more.recordAt(i));
          }
          return fill(records, deadline);
        })
        // what was polled is never dropped: the consumer's position is already past it
        .recover(e -> Future.succeededFuture(records));
  }

  /** Keeps the window's first records; the rest are sought back, so they come in the next batch. */
  private Future<List<KafkaConsumerRecord<String, Buffer>>> trim(List<KafkaConsumerRecord<String, Buffer>> records) {
    if (records.size() <= windowRecords) {
      return Future.succeededFuture(records);
    }
    Map<TopicPartition, Long> firstLeftOut = new HashMap<>();
    for (KafkaConsumerRecord<String, Buffer> r : records.subList(windowRecords, records.size())) {
      firstLeftOut.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    List<Future<Void>> seeks = new ArrayList<>();
    firstLeftOut.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset)));
    return Future.all(seeks)
        .<List<KafkaConsumerRecord<String, Buffer>>>map(v -> new ArrayList<>(records.subList(0, windowRecords)))
        // a partition revoked meanwhile cannot be sought: process everything, repeats are absorbed downstream
        .recover(e -> Future.succeededFuture(records));
  }

  /** @return the delay before the next poll */
  private Future<Long> process(List<KafkaConsumerRecord<String, Buffer>> records) {
    if (records.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    Future<Integer> handled;
    try {
      handled = handler.handle(records);
    } catch (RuntimeException e) {
      handled = Future.failedFuture(e);
    }
    return handled
        .recover(e -> {
          LOG.warn("{}: batch of {} failed, will retry: {}", name, records.size(), e.toString());
          return Future.succeededFuture(0);
        })
        .compose(done -> commitAndRewind(records, Math.max(0, Math.min(done, records.size()))));
  }

  private Future<Long> commitAndRewind(List<KafkaConsumerRecord<String, Buffer>> records, int done) {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    for (int i = 0; i < done; i++) {
      KafkaConsumerRecord<String, Buffer> r = records.get(i);
      commits.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1, ""));
    }
    Map<TopicPartition, Long> rewinds = new HashMap<>();
    for (int i = done; i < records.size(); i++) {
      KafkaConsumerRecord<String, Buffer> r = records.get(i);
      rewinds.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    Future<?> commit = commits.isEmpty() ? Future.succeededFuture() : consumer.commit(commits)
        // a failed commit (rebalance, broker away) only means these records come again: the
        // consumers' writes are idempotent, so a redelivery is absorbed
        .recover(e -> {
          LOG.warn("{}: commit failed, records may be redelivered: {}", name, e.toString());
          return Future.succeededFuture();
        });
    return commit.compose(v -> {
      if (rewinds.isEmpty()) {
        backoff.reset();
        return Future.succeededFuture(0L);
      }
      List<Future<Void>> seeks = new ArrayList<>();
      rewinds.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset)
          // the partition may have been revoked meanwhile: its new owner starts from the commit
          .recover(e -> Future.succeededFuture())));
      long delay = backoff.next();
      LOG.info("{}: {} of {} records done; retrying the rest in {} ms", name, done, records.size(), delay);
      return Future.join(seeks).map(delay);
    });
  }
}
