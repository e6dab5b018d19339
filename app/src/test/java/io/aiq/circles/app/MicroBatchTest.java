package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Micro-batches are up to N records, or what arrived within T ms of the first: records that come
 * a little apart are gathered into one batch, a batch never exceeds N (what a poll brought beyond
 * it comes in the next batch, in order, once), and a lone record does not wait for company.
 */
class MicroBatchTest {
  private Vertx vertx;
  private String topic;
  private String group;
  private final List<List<String>> batches = new CopyOnWriteArrayList<>();
  private ConsumerLoop loop;

  @BeforeEach
  void createTopic() throws Exception {
    vertx = Vertx.vertx();
    String id = UUID.randomUUID().toString().substring(0, 8);
    topic = "t" + id + ".batches";
    group = "g" + id;
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    }
  }

  @AfterEach
  void close() throws Exception {
    if (loop != null) {
      loop.stop().await(30, TimeUnit.SECONDS);
    }
    vertx.close().await(30, TimeUnit.SECONDS);
  }

  @Test
  void records_arriving_within_the_wait_are_one_batch() throws Exception {
    startLoop(10, 5, Duration.ofSeconds(3));
    for (int i = 0; i < 3; i++) {
      TopicProbe.send(topic, "k", "r" + i);
      Thread.sleep(200);
    }

    awaitHandled(3);

    assertThat(batches).containsExactly(List.of("r0", "r1", "r2"));
  }

  @Test
  void a_batch_never_exceeds_its_size_and_what_was_polled_beyond_it_comes_next_in_order_once() throws Exception {
    for (int i = 0; i < 7; i++) {
      TopicProbe.send(topic, "k", "r" + i);
    }
    // polls may bring up to 10 records; the window takes 3
    startLoop(10, 3, Duration.ofMillis(300));

    awaitHandled(7);

    assertThat(batches).allSatisfy(b -> assertThat(b).hasSizeLessThanOrEqualTo(3));
    assertThat(batches.stream().flatMap(List::stream).toList()).containsExactly("r0", "r1", "r2", "r3", "r4", "r5", "r6");
    TopicProbe.awaitCommittedPast(group, topic, 0, 6, Duration.ofSeconds(30));
  }

  @Test
  void a_lone_record_is_handled_after_the_wait_without_company() throws Exception {
    startLoop(10, 8, Duration.ofMillis(200));
    TopicProbe.send(topic, "k", "alone");

    awaitHandled(1);

    assertThat(batches).containsExactly(List.of("alone"));
  }

  @Test
  void the_inference_role_runs_images_uploaded_within_the_wait_through_the_detector_together() throws Exception {
    JsonObject inference = new JsonObject().put("batch-size", 3).put("batch-wait-ms", 5000).put("worker-threads", 1);
    try (RunningApp sys = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("inference", inference))) {
      List<Integer> calls = new CopyOnWriteArrayList<>();
      Detector recording = new RedeliveryTest.CountingDetector() {
        @Override
        public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
          calls.add(images.size());
          return super.detect(images);
        }
      };
      sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), recording, sys.registry)).await(30, TimeUnit.SECONDS);
      List<String> jobs = new ArrayList<>();
      jobs.add(sys.api.upload(TestImages.coinPhoto(), "a.jpg", "image/jpeg").bodyAsJsonObject().getString("jobId"));
      jobs.add(sys.api.upload(TestImages.otherCoinPhoto(), "b.jpg", "image/jpeg").bodyAsJsonObject().getString("jobId"));
      jobs.add(sys.api.upload(TestImages.discs(120, 90, "png", 4), "c.png", "image/png").bodyAsJsonObject()
          .getString("jobId"));

      for (String job : jobs) {
        assertThat(sys.api.awaitJob(job, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
      }
      assertThat(calls).containsExactly(3);
    }
  }

  private void startLoop(int maxPollRecords, int batchSize, Duration wait) throws Exception {
    KafkaConsumer<String, Buffer> consumer = KafkaConsumer.create(vertx, KafkaFixture.consumerConfig(group, maxPollRecords));
    loop = new ConsumerLoop(vertx, consumer, List.of(topic), Duration.ofMillis(100), this::record,
        new Backoff(50, 500), new ConsumerLoop.RetryPolicy(3, e -> false), (r, e, n) -> Future.succeededFuture(),
        "test").withBatchWindow(batchSize, wait);
    loop.start().await(30, TimeUnit.SECONDS);
  }

  private Future<ConsumerLoop.Handled> record(List<KafkaConsumerRecord<String, Buffer>> records) {
    batches.add(records.stream().map(r -> r.value().toString()).toList());
    return Future.succeededFuture(ConsumerLoop.Handled.all(records));
  }

  private void awaitHandled(int count) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
    while (batches.stream().mapToInt(List::size).sum() < count && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    // a little longer, so that a record handled twice would show
    Thread.sleep(500);
  }
}
