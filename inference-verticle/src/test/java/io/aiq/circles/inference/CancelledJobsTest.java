package io.aiq.circles.inference;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.contracts.events.JobCancelled;
import io.aiq.circles.testing.KafkaFixture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewPartitions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What an inference instance knows of cancellations: every one made before it started, once its
 * start completes, from every partition of the topic, including partitions added while it runs; and
 * it leaves no consumer group behind on the broker.
 */
class CancelledJobsTest {
  private final Vertx vertx = Vertx.vertx();
  private final String id = UUID.randomUUID().toString().substring(0, 8);
  private AppConfig.Kafka kafka;
  private Admin admin;
  private KafkaProducer<String, String> producer;
  private CancelledJobs cancelled;

  @BeforeEach
  void setUp() throws Exception {
    JsonObject overrides = new JsonObject().put("kafka", new JsonObject().put("bootstrap", KafkaFixture.bootstrap())
        .put("topic-prefix", "t" + id + ".").put("group-prefix", "g" + id));
    kafka = ConfigLoader.load(vertx, overrides).await(10, TimeUnit.SECONDS).kafka();
    admin = Admin.create(KafkaFixture.clientProperties());
    admin.createTopics(List.of(new NewTopic(topic(), 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
    Properties p = KafkaFixture.clientProperties();
    p.put("key.serializer", StringSerializer.class.getName());
    p.put("value.serializer", StringSerializer.class.getName());
    producer = new KafkaProducer<>(p);
  }

  @AfterEach
  void tearDown() throws Exception {
    if (cancelled != null) {
      cancelled.stop().await(10, TimeUnit.SECONDS);
    }
    producer.close();
    admin.close();
    vertx.close().await(10, TimeUnit.SECONDS);
  }

  private String topic() {
    return kafka.topics().jobsCancelled();
  }

  private String cancel(int partition) throws Exception {
    String job = UUID.randomUUID().toString();
    String value = new JobCancelled(job, UUID.randomUUID().toString(), Instant.now()).toJson().encode();
    producer.send(new ProducerRecord<>(topic(), partition, job, value)).get(30, TimeUnit.SECONDS);
    return job;
  }

  /** Whether the set knows the job, asked on a Vert.x context as the verticle would. */
  private boolean knows(String job) throws Exception {
    return vertx.executeBlocking(() -> cancelled.contains(job)).await(10, TimeUnit.SECONDS);
  }

  private void awaitKnown(String job, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (!knows(job)) {
      assertThat(System.nanoTime()).as("job %s known within %s", job, timeout).isLessThan(deadline);
      Thread.sleep(50);
    }
  }

  @Test
  void every_cancellation_made_before_the_start_is_known_when_the_start_completes() throws Exception {
    String first = cancel(0);
    String second = cancel(0);
    cancelled = new CancelledJobs(vertx, kafka, new SimpleMeterRegistry());

    cancelled.start("inference").await(30, TimeUnit.SECONDS);

    assertThat(knows(first)).isTrue();
    assertThat(knows(second)).isTrue();
    assertThat(knows(UUID.randomUUID().toString())).isFalse();
  }

  @Test
  void a_cancellation_made_while_running_becomes_known() throws Exception {
    cancelled = new CancelledJobs(vertx, kafka, new SimpleMeterRegistry());
    cancelled.start("inference").await(30, TimeUnit.SECONDS);

    awaitKnown(cancel(0), Duration.ofSeconds(10));
  }

  @Test
  void a_partition_added_to_the_topic_while_running_is_read_from_its_beginning() throws Exception {
    cancelled = new CancelledJobs(vertx, kafka, new SimpleMeterRegistry(), 200);
    cancelled.start("inference").await(30, TimeUnit.SECONDS);

    admin.createPartitions(Map.of(topic(), NewPartitions.increaseTo(2))).all().get(30, TimeUnit.SECONDS);
    String onTheNewPartition = cancel(1);

    awaitKnown(onTheNewPartition, Duration.ofSeconds(15));
  }

  @Test
  void reading_the_cancellations_joins_no_consumer_group() throws Exception {
    cancel(0);
    cancelled = new CancelledJobs(vertx, kafka, new SimpleMeterRegistry());
    cancelled.start("inference").await(30, TimeUnit.SECONDS);

    List<String> groups = admin.listConsumerGroups().all().get(30, TimeUnit.SECONDS).stream()
        .map(g -> g.groupId()).toList();
    assertThat(groups).noneMatch(g -> g.startsWith("g" + id));
  }
}
