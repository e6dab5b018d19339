package io.aiq.circles.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.BooleanSupplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The consumer loop on a real broker: a record that keeps failing is given up after a bounded number
 * of attempts, counted across restarts, and never holds the records behind it; outages are waited
 * out without counting. Each test has its own topic (one partition, so order is the partition's) and
 * its own consumer group.
 */
class ConsumerLoopTest {
  private static final int MAX_ATTEMPTS = 3;

  private final Vertx vertx = Vertx.vertx();
  private final String topic = "loop-" + UUID.randomUUID();
  private final String group = "loop-group-" + UUID.randomUUID();
  /** values handled successfully, in order */
  private final List<String> handled = new CopyOnWriteArrayList<>();
  /** how often the handler saw each value */
  private final Map<String, AtomicInteger> seen = new ConcurrentHashMap<>();
  /** how many more times a batch holding "crash" takes the process down (then "crash" is handled as any value) */
  private final AtomicInteger crashesLeft = new AtomicInteger(Integer.MAX_VALUE);
  /** values given up, with the attempts the loop counted */
  private final Map<String, Integer> givenUp = new ConcurrentHashMap<>();

  @BeforeEach
  void createTopic() throws Exception {
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void close() {
    vertx.close();
  }

  /** Fails every record whose value starts with "poison", and the rest succeed. */
  private Future<ConsumerLoop.Handled> failPoison(List<KafkaConsumerRecord<String, Buffer>> records) {
    for (int i = 0; i < records.size(); i++) {
      String v = records.get(i).value().toString();
      seen.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
      if (v.startsWith("poison")) {
        return Future.succeededFuture(ConsumerLoop.Handled.upTo(i, new IllegalStateException("cannot handle " + v)));
      }
      handled.add(v);
    }
    return Future.succeededFuture(ConsumerLoop.Handled.all(records));
  }

  private ConsumerLoop start(ConsumerLoop.BatchHandler handler, java.util.function.Predicate<Throwable> isOutage)
      throws Exception {
    ConsumerLoop loop = new ConsumerLoop(vertx, consumer(), List.of(topic), Duration.ofMillis(100), handler,
        new Backoff(20, 100), new ConsumerLoop.RetryPolicy(MAX_ATTEMPTS, isOutage),
        (record, cause, attempts) -> {
          givenUp.put(record.value().toString(), attempts);
          return Future.succeededFuture();
        }, "test");
    loop.start().await(30, TimeUnit.SECONDS);
    return loop;
  }

  /** A crash-guarded loop whose handler takes "the process" down (aborts the loop) on a batch holding "crash". */
  private ConsumerLoop startCrashing(List<List<String>> batches) throws Exception {
    java.util.concurrent.atomic.AtomicReference<ConsumerLoop> self = new java.util.concurrent.atomic.AtomicReference<>();
    ConsumerLoop loop = new ConsumerLoop(vertx, consumer(), List.of(topic), Duration.ofMillis(100), records -> {
      List<String> values = records.stream().map(r -> r.value().toString()).toList();
      batches.add(values);
      if (values.contains("crash") && crashesLeft.getAndDecrement() > 0) {
        seen.computeIfAbsent("crash", k -> new AtomicInteger()).incrementAndGet();
        // as a native fault would: nothing after this is committed, the batch never finishes
        vertx.runOnContext(v -> self.get().abort());
        return io.vertx.core.Promise.<ConsumerLoop.Handled>promise().future();
      }
      return failPoison(records);
    }, new Backoff(20, 100), new ConsumerLoop.RetryPolicy(MAX_ATTEMPTS, e -> false),
        (record, cause, attempts) -> {
          givenUp.put(record.value().toString(), attempts);
          return Future.succeededFuture();
        }, "test").withBatchWindow(8, Duration.ofMillis(200)).withCrashGuard();
    self.set(loop);
    loop.start().await(30, TimeUnit.SECONDS);
    return loop;
  }

  private KafkaConsumer<String, Buffer> consumer() {
    return KafkaConsumer.create(vertx, KafkaFixture.consumerConfig(group, 8));
  }

  @Test
  void a_record_that_keeps_failing_is_given_up_after_max_attempts_and_the_records_behind_it_go_on()
      throws Exception {
    for (String v : List.of("a", "b", "poison-1", "c", "d")) {
      TopicProbe.send(topic, "k", v);
    }

    ConsumerLoop loop = start(this::failPoison, e -> false);

    await(() -> handled.size() == 4);
    loop.stop().await(30, TimeUnit.SECONDS);
    assertThat(handled).containsExactly("a", "b", "c", "d");
    assertThat(seen.get("poison-1")).hasValue(MAX_ATTEMPTS);
    assertThat(givenUp).containsExactly(Map.entry("poison-1", MAX_ATTEMPTS));
    assertThat(seen.get("a")).as("records before the poison are not redone").hasValue(1);
  }

  @Test
  void the_attempts_are_kept_with_the_committed_offset_so_a_restart_does_not_reset_them() throws Exception {
    TopicProbe.send(topic, "k", "poison-2");
    TopicProbe.send(topic, "k", "after");

    // the first consumer fails the record twice, then hangs on its third try, and is killed there
    ConsumerLoop first = start(records -> {
      String v = records.get(0).value().toString();
      if (seen.containsKey(v) && seen.get(v).get() >= MAX_ATTEMPTS - 1) {
        return io.vertx.core.Promise.<ConsumerLoop.Handled>promise().future();
      }
      return failPoison(records);
    }, e -> false);
    await(() -> committedMetadata().equals(ConsumerLoop.ATTEMPTS_METADATA + (MAX_ATTEMPTS - 1)));
    // stopped as a crash would: nothing of the batch in hand is committed
    first.abort().await(30, TimeUnit.SECONDS);
    int beforeRestart = seen.get("poison-2").get();
    assertThat(givenUp).isEmpty();

    ConsumerLoop second = start(this::failPoison, e -> false);
    await(() -> handled.contains("after"));
    second.stop().await(30, TimeUnit.SECONDS);

    assertThat(beforeRestart).isEqualTo(MAX_ATTEMPTS - 1);
    assertThat(seen.get("poison-2").get()).as("attempts over both consumers").isEqualTo(MAX_ATTEMPTS);
    assertThat(givenUp).containsEntry("poison-2", MAX_ATTEMPTS);
  }

  @Test
  void an_outage_is_waited_out_without_counting_against_the_record() throws Exception {
    TopicProbe.send(topic, "k", "during-outage");
    AtomicInteger failuresLeft = new AtomicInteger(MAX_ATTEMPTS * 3);

    ConsumerLoop loop = start(records -> {
      String v = records.get(0).value().toString();
      seen.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
      if (failuresLeft.getAndDecrement() > 0) {
        return Future.succeededFuture(ConsumerLoop.Handled.upTo(0, new java.net.ConnectException("database away")));
      }
      handled.add(v);
      return Future.succeededFuture(ConsumerLoop.Handled.all(records));
    }, Outages::isKafkaOutage);

    await(() -> handled.contains("during-outage"));
    loop.stop().await(30, TimeUnit.SECONDS);
    assertThat(seen.get("during-outage").get()).isEqualTo(MAX_ATTEMPTS * 3 + 1);
    assertThat(givenUp).isEmpty();
  }

  @Test
  void a_handler_that_throws_counts_as_a_failed_attempt() throws Exception {
    TopicProbe.send(topic, "k", "throws");
    TopicProbe.send(topic, "k", "next");

    ConsumerLoop loop = start(records -> {
      String v = records.get(0).value().toString();
      seen.computeIfAbsent(v, k -> new AtomicInteger()).incrementAndGet();
      if (v.equals("throws")) {
        throw new NullPointerException("a bug in the handler");
      }
      records.forEach(r -> handled.add(r.value().toString()));
      return Future.succeededFuture(ConsumerLoop.Handled.all(records));
    }, e -> false);

    await(() -> handled.contains("next"));
    loop.stop().await(30, TimeUnit.SECONDS);
    assertThat(givenUp).containsEntry("throws", MAX_ATTEMPTS);
  }

  @Test
  void a_record_that_takes_the_process_down_every_time_is_given_up_and_its_batch_mates_are_handled()
      throws Exception {
    for (String v : List.of("a", "b", "crash", "c", "d")) {
      TopicProbe.send(topic, "k", v);
    }
    List<List<String>> batches = new CopyOnWriteArrayList<>();

    int processes = 0;
    while (!givenUp.containsKey("crash") && processes < MAX_ATTEMPTS + 3) {
      ConsumerLoop loop = startCrashing(batches);
      processes++;
      int before = seen.getOrDefault("crash", new AtomicInteger()).get();
      // until this process "crashes", or is done with everything
      await(() -> seen.getOrDefault("crash", new AtomicInteger()).get() > before || givenUp.containsKey("crash"));
      Thread.sleep(200);
      loop.abort().await(30, TimeUnit.SECONDS);
    }
    ConsumerLoop last = startCrashing(batches);
    await(() -> handled.containsAll(List.of("a", "b", "c", "d")));
    last.stop().await(30, TimeUnit.SECONDS);

    assertThat(givenUp).containsExactly(Map.entry("crash", MAX_ATTEMPTS));
    assertThat(seen.get("crash")).as("the batch, then alone once per attempt").hasValue(1 + MAX_ATTEMPTS);
    assertThat(handled).containsSubsequence("a", "b", "c", "d");
    assertThat(batches.get(0)).as("the first batch holds them all").containsExactly("a", "b", "crash", "c", "d");
    assertThat(batches.subList(1, batches.size())).as("after the crash, one record at a time")
        .allSatisfy(b -> assertThat(b).hasSize(1));
    assertThat(committedMetadata()).as("once past the range, no mark is left").isEmpty();
  }

  @Test
  void a_record_that_fails_cleanly_after_a_crash_has_each_attempt_counted_once() throws Exception {
    for (String v : List.of("a", "poison-5", "crash", "b")) {
      TopicProbe.send(topic, "k", v);
    }
    crashesLeft.set(1);
    List<List<String>> batches = new CopyOnWriteArrayList<>();
    ConsumerLoop first = startCrashing(batches);
    await(() -> seen.containsKey("crash"));
    Thread.sleep(200);
    first.abort().await(30, TimeUnit.SECONDS);

    ConsumerLoop second = startCrashing(batches);
    await(() -> handled.containsAll(List.of("a", "crash", "b")));
    second.stop().await(30, TimeUnit.SECONDS);

    assertThat(givenUp).containsExactly(Map.entry("poison-5", MAX_ATTEMPTS));
    assertThat(seen.get("poison-5")).as("handled alone, failing, once per attempt").hasValue(MAX_ATTEMPTS);
  }

  @Test
  void a_batch_that_failed_cleanly_is_not_taken_for_a_crash() throws Exception {
    for (String v : List.of("a", "poison-3", "b", "c")) {
      TopicProbe.send(topic, "k", v);
    }
    List<List<String>> batches = new CopyOnWriteArrayList<>();

    ConsumerLoop loop = startCrashing(batches);
    await(() -> handled.containsAll(List.of("a", "b", "c")));
    loop.stop().await(30, TimeUnit.SECONDS);

    assertThat(givenUp).containsExactly(Map.entry("poison-3", MAX_ATTEMPTS));
    assertThat(seen.get("poison-3")).as("counted once per failure, not also when it started").hasValue(MAX_ATTEMPTS);
    assertThat(batches).as("the retries take the rest of the batch along").contains(List.of("poison-3", "b", "c"));
    assertThat(committedMetadata()).isEmpty();
  }

  @Test
  void a_mark_reads_back_as_it_was_written_and_a_foreign_one_as_none() {
    ConsumerLoop.Mark mark = new ConsumerLoop.Mark(2, 17);
    assertThat(ConsumerLoop.Mark.parse(mark.format())).isEqualTo(mark);
    assertThat(ConsumerLoop.parseAttempts(mark.format())).isEqualTo(2);
    assertThat(ConsumerLoop.Mark.parse(ConsumerLoop.ATTEMPTS_METADATA + "3")).isEqualTo(new ConsumerLoop.Mark(3, 0));
    assertThat(ConsumerLoop.Mark.parse("someone else's;inflight-to=9")).isEqualTo(ConsumerLoop.Mark.NONE);
    assertThat(ConsumerLoop.Mark.parse(ConsumerLoop.ATTEMPTS_METADATA + "1;inflight-to=x")).isEqualTo(new ConsumerLoop.Mark(1, 0));
    assertThat(ConsumerLoop.Mark.NONE.format()).isEmpty();
  }

  @Test
  void attempts_are_read_only_from_metadata_this_loop_wrote() {
    assertThat(ConsumerLoop.parseAttempts(ConsumerLoop.ATTEMPTS_METADATA + "4")).isEqualTo(4);
    assertThat(ConsumerLoop.parseAttempts("")).isZero();
    assertThat(ConsumerLoop.parseAttempts(null)).isZero();
    assertThat(ConsumerLoop.parseAttempts("someone else's")).isZero();
    assertThat(ConsumerLoop.parseAttempts(ConsumerLoop.ATTEMPTS_METADATA + "x")).isZero();
  }

  /** The metadata of the group's committed offset on the topic's one partition ("" when none). */
  private String committedMetadata() {
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      var offsets = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get(10, TimeUnit.SECONDS);
      var committed = offsets.get(new org.apache.kafka.common.TopicPartition(topic, 0));
      return committed == null ? "" : committed.metadata();
    } catch (Exception e) {
      return "";
    }
  }

  private static void await(BooleanSupplier condition) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (!condition.getAsBoolean()) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("not reached within 30 s");
      }
      Thread.sleep(20);
    }
  }
}
