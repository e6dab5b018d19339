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
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Poll, process, commit, repeat: the at-least-once loop every consumer of the pipeline runs.
 *
 * <p>Offsets are committed only for records the {@link BatchHandler} reports done, i.e. whose output
 * was acknowledged by the broker or whose database transaction committed. When a record fails, the
 * loop commits what was done, seeks back to the failed record and tries again after an exponential
 * back-off, so nothing is skipped and nothing is polled past it.
 *
 * <p>Attempts are bounded per record ({@link RetryPolicy}): past {@code maxAttempts} failures the
 * record is handed to the {@link GiveUp} (which dead-letters it and fails its job) and the partition
 * moves on, so no record can hold its partition for good. The count travels with the committed
 * offset, in its metadata ({@code aiq-attempts=N} on the failed record's own offset), so a restart,
 * a rebalance or another member of the group continues it instead of starting again at zero. A
 * failure the policy calls an outage (broker or database away) is not the record's fault and is not
 * counted: the loop backs off, up to the back-off's cap, until the dependency is back, while
 * readiness reports it.
 *
 * <p>A record can also fail by taking the process down with it (a native fault in a model, the
 * memory limit): then nothing is counted after the failure. With {@link #withCrashGuard} the loop
 * marks each batch in the committed offset before handling it ({@code aiq-attempts=N;inflight-to=E}
 * on its first record's offset, E the offset after its last): a loop that finds such a mark at the
 * offset it resumes from knows that a batch starting there never finished, and handles that range
 * one record at a time, counting each record's attempt when it starts. A record that keeps taking
 * the process down is then given up like any other, without being handled again, and the records
 * that shared its batch are handled normally, one by one.
 *
 * <p>Polling again only after the batch is finished is also the back-pressure: a slow detector or
 * database slows the loop, not memory.
 */
public final class ConsumerLoop {
  private static final Logger LOG = LoggerFactory.getLogger(ConsumerLoop.class);

  /** Metadata prefix of a committed offset whose record has failed that many times. */
  static final String ATTEMPTS_METADATA = "aiq-attempts=";
  /** Metadata part of a batch being handled: the offset after its last record on that partition. */
  static final String INFLIGHT_METADATA = ";inflight-to=";

  /**
   * What a committed offset's metadata says about its record: the attempts counted so far and, for a
   * batch that was being handled when it was written, where that batch ended (0: none).
   */
  record Mark(int attempts, long inflightTo) {
    static final Mark NONE = new Mark(0, 0);

    static Mark parse(String metadata) {
      if (metadata == null || !metadata.startsWith(ATTEMPTS_METADATA)) {
        return NONE;
      }
      int split = metadata.indexOf(INFLIGHT_METADATA);
      String attempts = metadata.substring(ATTEMPTS_METADATA.length(), split < 0 ? metadata.length() : split);
      return new Mark((int) Math.min(Integer.MAX_VALUE, number(attempts)), split < 0 ? 0 : number(metadata.substring(split + INFLIGHT_METADATA.length())));
    }

    /** A count or offset this loop wrote; anything else reads as 0. */
    private static long number(String text) {
      try {
        return Math.max(0, Long.parseLong(text.trim()));
      } catch (NumberFormatException e) {
        return 0;
      }
    }

    String format() {
      return attempts == 0 && inflightTo == 0 ? "" : ATTEMPTS_METADATA + attempts
          + (inflightTo > 0 ? INFLIGHT_METADATA + inflightTo : "");
    }
  }

  /** The failure a record is given up with after it took the process down {@code attempts} times. */
  public static final class ProcessLost extends RuntimeException {
    ProcessLost(int attempts) {
      super("the process stopped while handling this record " + attempts + " times (crashed or was killed)");
    }
  }

  /** Handles a batch in record order. */
  @FunctionalInterface
  public interface BatchHandler {
    /**
     * @return how many records, from the first, are done and, when fewer than all, why the next one
     *     failed; that one is delivered again (a failed future counts as none done)
     */
    Future<Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records);
  }

  /** What handling a batch came to. */
  public record Handled(int done, Throwable failure) {
    public static Handled all(List<?> records) {
      return new Handled(records.size(), null);
    }

    public static Handled upTo(int done, Throwable failure) {
      return new Handled(done, failure);
    }
  }

  /** Takes a record that failed too often off its partition: dead-letters it, fails its job. */
  @FunctionalInterface
  public interface GiveUp {
    /** @return succeeded once the record is dealt with; failed, and the record is tried again */
    Future<?> giveUp(KafkaConsumerRecord<String, Buffer> record, Throwable lastFailure, int attempts);
  }

  /**
   * @param maxAttempts failures of one record before it is given up
   * @param isOutage failures that are a dependency's, not the record's: retried without counting
   */
  public record RetryPolicy(int maxAttempts, Predicate<Throwable> isOutage) {
    public RetryPolicy {
      if (maxAttempts < 1) {
        throw new IllegalArgumentException("maxAttempts must be at least 1, got " + maxAttempts);
      }
    }
  }

  private final Vertx vertx;
  private final KafkaConsumer<String, Buffer> consumer;
  private final Collection<String> topics;
  private final Duration pollTimeout;
  private final BatchHandler handler;
  private final Backoff backoff;
  private final RetryPolicy policy;
  private final GiveUp giveUp;
  private final String name;
  private final Promise<Void> finished = Promise.promise();
  private volatile boolean running;
  private int windowRecords;
  private long windowMillis;
  private boolean crashGuard;
  /** This batch's marks on partitions it did not finish: restored without the in-flight part. */
  private final Map<TopicPartition, OffsetAndMetadata> marked = new HashMap<>();
  /** In a range left by a crash: where the range ends; the one record in hand was counted already. */
  private long crashedRangeEnd;
  private boolean countedAtStart;
  /**
   * What this loop last committed per partition, so that marking a batch that starts there needs no
   * lookup. A partition that came back after another member held it starts elsewhere, or at worst
   * where another member crashed after marking it: then this process crashes once on that batch and
   * its successor, with nothing remembered, sees the mark.
   */
  private final Map<TopicPartition, OffsetAndMetadata> lastCommitted = new HashMap<>();

  public ConsumerLoop(Vertx vertx, KafkaConsumer<String, Buffer> consumer, Collection<String> topics,
                      Duration pollTimeout, BatchHandler handler, Backoff backoff, RetryPolicy policy,
                      GiveUp giveUp, String name) {
    this.vertx = vertx;
    this.consumer = consumer;
    this.topics = topics;
    this.pollTimeout = pollTimeout;
    this.handler = handler;
    this.backoff = backoff;
    this.policy = policy;
    this.giveUp = giveUp;
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

  /**
   * Marks every batch in the committed offset before handling it, so that a batch the process did
   * not survive is redone one record at a time and a record that keeps killing the process is
   * given up (see the class comment). It costs a commit per batch (and an offset lookup where
   * this loop did not make the partition's last commit): for handlers that run native code, not for
   * ones that only parse and write.
   */
  public ConsumerLoop withCrashGuard() {
    this.crashGuard = true;
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
    marked.clear();
    crashedRangeEnd = 0;
    countedAtStart = false;
    if (records.isEmpty()) {
      return Future.succeededFuture(0L);
    }
    if (!crashGuard) {
      return handle(records);
    }
    Map<TopicPartition, Long> first = new LinkedHashMap<>();
    Map<TopicPartition, Long> end = new HashMap<>();
    for (KafkaConsumerRecord<String, Buffer> r : records) {
      TopicPartition tp = new TopicPartition(r.topic(), r.partition());
      first.putIfAbsent(tp, r.offset());
      end.put(tp, r.offset() + 1);
    }
    Map<TopicPartition, Mark> marks = new HashMap<>();
    List<Future<Void>> lookups = new ArrayList<>();
    first.forEach((tp, offset) -> {
      OffsetAndMetadata known = lastCommitted.get(tp);
      if (known != null && known.getOffset() == offset) {
        marks.put(tp, Mark.parse(known.getMetadata()));
        return;
      }
      lookups.add(consumer.committed(tp).map(c -> {
        marks.put(tp, c != null && c.getOffset() == offset ? Mark.parse(c.getMetadata()) : Mark.NONE);
        return null;
      }));
    });
    return Future.all(lookups).compose(v -> {
      for (Map.Entry<TopicPartition, Long> e : first.entrySet()) {
        Mark mark = marks.get(e.getKey());
        if (mark.inflightTo() > e.getValue()) {
          return afterCrash(records, e.getKey(), mark, first);
        }
      }
      Map<TopicPartition, OffsetAndMetadata> marking = new HashMap<>();
      first.forEach((tp, offset) -> {
        int attempts = marks.get(tp).attempts();
        marking.put(tp, new OffsetAndMetadata(offset, new Mark(attempts, end.get(tp)).format()));
        marked.put(tp, new OffsetAndMetadata(offset, new Mark(attempts, 0).format()));
      });
      return commitRemembered(marking).compose(committed -> handle(records));
    }).recover(e -> {
      // without the mark the batch is not handled: it comes again from where it started
      LOG.warn("{}: could not mark the batch before handling it, retrying: {}", name, e.toString());
      marked.clear();
      List<Future<Void>> seeks = new ArrayList<>();
      first.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset).recover(x -> Future.succeededFuture())));
      return Future.join(seeks).map(x -> backoff.next());
    });
  }

  /**
   * The batch at {@code tp} starts where one that never finished started: its first record is
   * handled alone (the rest of the poll comes again), its attempt counted before it starts, or given
   * up unhandled when its attempts are spent.
   */
  private Future<Long> afterCrash(List<KafkaConsumerRecord<String, Buffer>> records, TopicPartition tp, Mark mark,
                                  Map<TopicPartition, Long> first) {
    KafkaConsumerRecord<String, Buffer> record = records.stream()
        .filter(r -> r.topic().equals(tp.getTopic()) && r.partition() == tp.getPartition()).findFirst().orElseThrow();
    List<Future<Void>> seeks = new ArrayList<>();
    first.forEach((p, offset) -> seeks.add(consumer.seek(p, p.equals(tp) ? offset + 1 : offset)));
    crashedRangeEnd = mark.inflightTo();
    List<KafkaConsumerRecord<String, Buffer>> alone = List.of(record);
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    return Future.all(seeks).compose(v -> {
      if (mark.attempts() >= policy.maxAttempts()) {
        LOG.warn("{}: giving up {}: the process stopped while handling it {} times", name, where, mark.attempts());
        return giveUpThenGoOn(alone, 0, new ProcessLost(mark.attempts()), mark.attempts(), mark.attempts());
      }
      int attempts = mark.attempts() + 1;
      LOG.warn("{}: {} was in a batch the process did not finish: handling it alone (attempt {} of {})", name, where,
          attempts, policy.maxAttempts());
      countedAtStart = true;
      // what the offset says again if the record is neither done nor failed (an outage): uncounted
      marked.put(tp, new OffsetAndMetadata(record.offset(), mark.format()));
      return commitRemembered(Map.of(tp, new OffsetAndMetadata(record.offset(), new Mark(attempts, crashedRangeEnd).format())))
          .compose(c -> handle(alone));
    });
  }

  /** Commits, remembering what was committed (forgetting it for the partitions if the commit failed). */
  private Future<Void> commitRemembered(Map<TopicPartition, OffsetAndMetadata> commits) {
    return consumer.commit(commits)
        .onSuccess(v -> lastCommitted.putAll(commits))
        .onFailure(e -> commits.keySet().forEach(lastCommitted::remove))
        .mapEmpty();
  }

  private Future<Long> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    // one process span per record, ended with the batch (a no-op without tracing)
    EventTracing.Processing spans = EventTracing.of(vertx).process(records, name);
    Future<Handled> handled;
    try {
      handled = handler.handle(records);
    } catch (RuntimeException e) {
      handled = Future.failedFuture(e);
    }
    return handled
        .recover(e -> Future.succeededFuture(Handled.upTo(0, e)))
        .onSuccess(h -> spans.end(h.done(), h.failure()))
        .compose(h -> {
          int done = Math.max(0, Math.min(h.done(), records.size()));
          if (done == records.size()) {
            return commitAndRewind(records, done, null, false);
          }
          Throwable cause = h.failure() == null ? new IllegalStateException("the handler did not say why") : h.failure();
          return afterFailure(records, done, cause);
        });
  }

  /**
   * The record at {@code failed} did not get done: counts the attempt (unless the cause is an
   * outage) and either gives the record up, when that was its last, or records the count in the
   * commit and tries again after the back-off.
   */
  private Future<Long> afterFailure(List<KafkaConsumerRecord<String, Buffer>> records, int failed, Throwable cause) {
    KafkaConsumerRecord<String, Buffer> record = records.get(failed);
    String where = record.topic() + "-" + record.partition() + "@" + record.offset();
    if (policy.isOutage().test(cause)) {
      LOG.warn("{}: {} of {} records done; {} waits for a dependency: {}", name, failed, records.size(), where,
          cause.toString());
      return commitAndRewind(records, failed, null, true);
    }
    TopicPartition tp = new TopicPartition(record.topic(), record.partition());
    return attemptsSoFar(tp, record.offset()).compose(soFar -> {
      // a record handled alone after a crash had its attempt counted when it started
      int before = countedAtStart && failed == 0 ? Math.max(0, soFar - 1) : soFar;
      int attempts = before + 1;
      if (attempts < policy.maxAttempts()) {
        LOG.warn("{}: {} failed (attempt {} of {}): {}", name, where, attempts, policy.maxAttempts(), cause.toString());
        return commitAndRewind(records, failed, new OffsetAndMetadata(record.offset(), countMark(attempts)), true);
      }
      LOG.warn("{}: giving up {} after {} attempts: {}", name, where, attempts, cause.toString());
      return giveUpThenGoOn(records, failed, cause, attempts, before);
    });
  }

  /** Hands the record at {@code failed} to the {@link GiveUp}; then the rest of the batch goes on. */
  private Future<Long> giveUpThenGoOn(List<KafkaConsumerRecord<String, Buffer>> records, int failed, Throwable cause,
                                      int attempts, int before) {
    KafkaConsumerRecord<String, Buffer> record = records.get(failed);
    Future<?> given;
    try {
      given = giveUp.giveUp(record, cause, attempts);
    } catch (RuntimeException e) {
      given = Future.failedFuture(e);
    }
    return given.transform(ar -> {
      if (ar.succeeded()) {
        // the rest of the batch comes again at once: it did not fail
        return commitAndRewind(records, failed + 1, null, false);
      }
      // dead-lettering needs the broker: wait for it as for any outage, the count stays where it is
      LOG.warn("{}: could not give up {} yet: {}", name, record.topic() + "-" + record.partition() + "@" + record.offset(),
          ar.cause().toString());
      return commitAndRewind(records, failed, new OffsetAndMetadata(record.offset(), countMark(before)), true);
    });
  }

  /** The metadata of a record's offset after {@code attempts} failures (inside a crashed range, with its end). */
  private String countMark(int attempts) {
    return new Mark(attempts, crashedRangeEnd).format();
  }

  /** The failures counted so far for the record at this offset: the metadata of the committed offset. */
  private Future<Integer> attemptsSoFar(TopicPartition tp, long offset) {
    return consumer.committed(tp)
        .map(committed -> committed != null && committed.getOffset() == offset ? parseAttempts(committed.getMetadata()) : 0)
        // the count is a bound, not a ledger: without the broker's answer, count from here
        .recover(e -> Future.succeededFuture(0));
  }

  static int parseAttempts(String metadata) {
    return Mark.parse(metadata).attempts();
  }


  /**
   * Commits the first {@code done} records and seeks back to the first of the rest on each
   * partition. {@code failedCommit}, when given, is committed for the partition of record
   * {@code done} (its own offset, with the attempts counted so far); {@code backOff} delays the
   * next poll, as after a failure.
   */
  private Future<Long> commitAndRewind(List<KafkaConsumerRecord<String, Buffer>> records, int done,
                                       OffsetAndMetadata failedCommit, boolean backOff) {
    Map<TopicPartition, OffsetAndMetadata> commits = new HashMap<>();
    for (int i = 0; i < done; i++) {
      KafkaConsumerRecord<String, Buffer> r = records.get(i);
      // inside a range a crash left, the records after this one are still handled one at a time
      String rest = crashedRangeEnd > r.offset() + 1 ? new Mark(0, crashedRangeEnd).format() : "";
      commits.put(new TopicPartition(r.topic(), r.partition()), new OffsetAndMetadata(r.offset() + 1, rest));
    }
    if (failedCommit != null) {
      KafkaConsumerRecord<String, Buffer> r = records.get(done);
      commits.put(new TopicPartition(r.topic(), r.partition()), failedCommit);
    }
    // a batch marked in flight and not finished, but not lost either: its mark comes off
    marked.forEach(commits::putIfAbsent);
    Map<TopicPartition, Long> rewinds = new HashMap<>();
    for (int i = done; i < records.size(); i++) {
      KafkaConsumerRecord<String, Buffer> r = records.get(i);
      rewinds.putIfAbsent(new TopicPartition(r.topic(), r.partition()), r.offset());
    }
    Future<?> commit = commits.isEmpty() ? Future.succeededFuture() : commitRemembered(commits)
        // a failed commit (rebalance, broker away) only means these records come again: the
        // consumers' writes are idempotent, so a redelivery is absorbed
        .recover(e -> {
          LOG.warn("{}: commit failed, records may be redelivered: {}", name, e.toString());
          return Future.succeededFuture();
        });
    return commit.compose(v -> {
      if (!backOff) {
        backoff.reset();
      }
      if (rewinds.isEmpty()) {
        return Future.succeededFuture(0L);
      }
      List<Future<Void>> seeks = new ArrayList<>();
      rewinds.forEach((tp, offset) -> seeks.add(consumer.seek(tp, offset)
          // the partition may have been revoked meanwhile: its new owner starts from the commit
          .recover(e -> Future.succeededFuture())));
      long delay = backOff ? backoff.next() : 0L;
      if (backOff) {
        LOG.info("{}: {} of {} records done; retrying the rest in {} ms", name, done, records.size(), delay);
      }
      return Future.join(seeks).map(delay);
    });
  }
}
