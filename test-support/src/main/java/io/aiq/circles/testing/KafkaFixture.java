package io.aiq.circles.testing;

import java.util.Properties;
import kafka.testkit.KafkaClusterTestKit;
import kafka.testkit.TestKitNodes;
import org.apache.kafka.common.utils.Exit;
import org.testcontainers.DockerClientFactory;
import org.testcontainers.kafka.KafkaContainer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A real Kafka broker for the tests of one JVM, chosen in this order: the cluster named by
 * {@code AIQ_TEST_KAFKA_BOOTSTRAP} (or {@code AIQ_KAFKA_BOOTSTRAP}); a Testcontainers broker where a
 * Docker engine answers; else a single-node KRaft broker inside this JVM (Kafka's own test kit), which
 * starts in a few seconds and needs nothing installed. Tests isolate themselves with unique topic and
 * group names ({@link TestEnv}), so one broker serves them all.
 */
public final class KafkaFixture {
  private static final Logger LOG = LoggerFactory.getLogger(KafkaFixture.class);
  private static String bootstrap;
  private static KafkaClusterTestKit embedded;

  private KafkaFixture() {
  }

  public static synchronized String bootstrap() {
    if (bootstrap == null) {
      bootstrap = start();
    }
    return bootstrap;
  }

  private static String start() {
    String external = firstSet(System.getenv("AIQ_TEST_KAFKA_BOOTSTRAP"), System.getenv("AIQ_KAFKA_BOOTSTRAP"));
    if (external != null) {
      LOG.info("tests use the Kafka cluster at {}", external);
      return external;
    }
    if (dockerAvailable()) {
      KafkaContainer container = new KafkaContainer("apache/kafka:3.7.1");
      container.start();
      Runtime.getRuntime().addShutdownHook(new Thread(container::stop));
      LOG.info("tests use a Testcontainers Kafka broker at {}", container.getBootstrapServers());
      return container.getBootstrapServers();
    }
    // The broker halts its JVM on a fatal fault, for instance when its log directory fails while
    // the JVM's shutdown hooks are closing it. In a test JVM that turns a passed suite into a
    // forked VM's non-zero exit (CI saw "Error occurred in starting fork" after all tests
    // passed), so a halt or exit is logged instead of taken: a broker that dies during a test
    // still fails that test through its clients.
    Exit.setHaltProcedure((code, message) ->
        LOG.error("the test broker asked to halt the JVM ({}): {}; ignored", code, message));
    Exit.setExitProcedure((code, message) ->
        LOG.error("the test broker asked to exit the JVM ({}): {}; ignored", code, message));
    try {
      long t0 = System.nanoTime();
      KafkaClusterTestKit kit = new KafkaClusterTestKit.Builder(new TestKitNodes.Builder()
          .setCombined(true).setNumBrokerNodes(1).setNumControllerNodes(1).build())
          .setConfigProp("offsets.topic.replication.factor", "1")
          .setConfigProp("offsets.topic.num.partitions", "4")
          .setConfigProp("transaction.state.log.replication.factor", "1")
          .setConfigProp("transaction.state.log.min.isr", "1")
          .setConfigProp("group.initial.rebalance.delay.ms", "0")
          .setConfigProp("auto.create.topics.enable", "false")
          .build();
      kit.format();
      kit.startup();
      kit.waitForReadyBrokers();
      embedded = kit;
      Runtime.getRuntime().addShutdownHook(new Thread(KafkaFixture::closeEmbedded));
      String servers = kit.bootstrapServers();
      LOG.info("tests use an in-process KRaft broker at {} (started in {} ms)", servers,
          (System.nanoTime() - t0) / 1_000_000);
      return servers;
    } catch (Exception e) {
      throw new IllegalStateException("could not start an in-process Kafka broker", e);
    }
  }

  private static void closeEmbedded() {
    try {
      embedded.close();
    } catch (Exception e) {
      LOG.debug("closing the test broker: {}", e.toString());
    }
  }

  private static boolean dockerAvailable() {
    try {
      return DockerClientFactory.instance().isDockerAvailable();
    } catch (Throwable t) {
      return false;
    }
  }

  private static String firstSet(String... values) {
    for (String v : values) {
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return null;
  }

  /**
   * A Vert.x consumer's settings as the pipeline's consumers have them (Buffer values, auto-commit
   * off, from the earliest offset), in a group of the test's own.
   */
  public static java.util.Map<String, String> consumerConfig(String group, int maxPollRecords) {
    java.util.Map<String, String> config = new java.util.HashMap<>();
    config.put("bootstrap.servers", bootstrap());
    config.put("group.id", group);
    config.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    config.put("value.deserializer", "io.vertx.kafka.client.serialization.BufferDeserializer");
    config.put("enable.auto.commit", "false");
    config.put("auto.offset.reset", "earliest");
    config.put("max.poll.records", String.valueOf(maxPollRecords));
    return config;
  }

  /** Client properties for a plain Kafka client in a test (a consumer that checks what was published). */
  public static Properties clientProperties() {
    Properties p = new Properties();
    p.put("bootstrap.servers", bootstrap());
    return p;
  }
}
