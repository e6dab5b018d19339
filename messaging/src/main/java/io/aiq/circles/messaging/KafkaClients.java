package io.aiq.circles.messaging;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.tracing.TracingPolicy;
import io.vertx.kafka.client.common.KafkaClientOptions;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaWriteStream;
import io.vertx.kafka.client.producer.impl.KafkaProducerImpl;
import java.util.HashMap;
import java.util.Map;

/** The one place Kafka clients are configured. Keys are strings (image ids), values JSON bytes. */
public final class KafkaClients {
  private KafkaClients() {
  }

  /**
   * An idempotent producer that only reports success once every in-sync replica has the record
   * ({@code acks=all}), and gives up within {@code delivery-timeout-ms} so an upload can answer 503
   * instead of hanging while the broker is away.
   */
  public static Map<String, String> producerConfig(AppConfig.Kafka kafka, String clientId) {
    return producerConfig(kafka, clientId, UPLOAD_LINGER_MS);
  }

  /**
   * How long a record waits for others to share its request. An upload waits on its event's
   * acknowledgement, so its producer sends at once (linger.ms 2 was 2 ms of a lone upload's 5).
   */
  public static final int UPLOAD_LINGER_MS = 0;
  /**
   * The consumers publish a batch's outputs together and nobody waits on one record: 2 ms lets them
   * share requests (with linger.ms 0 the first record of a batch goes alone). 1 and 5 ms drained a
   * backlog no faster, within the noise of this machine (issue 17).
   */
  public static final int BATCH_LINGER_MS = 2;

  /** {@link #producerConfig(AppConfig.Kafka, String)} with a {@code linger.ms} of its own. */
  public static Map<String, String> producerConfig(AppConfig.Kafka kafka, String clientId, int lingerMs) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", kafka.bootstrap());
    c.put("client.id", clientId);
    c.put("key.serializer", "org.apache.kafka.common.serialization.StringSerializer");
    c.put("value.serializer", "io.vertx.kafka.client.serialization.BufferSerializer");
    c.put("acks", "all");
    c.put("enable.idempotence", "true");
    c.put("max.in.flight.requests.per.connection", "5");
    // under load records share requests anyway: those that queue while five requests are in flight
    c.put("linger.ms", String.valueOf(lingerMs));
    c.put("compression.type", "lz4");
    c.put("request.timeout.ms", String.valueOf(Math.min(kafka.requestTimeoutMs(), kafka.deliveryTimeoutMs() - 10)));
    c.put("delivery.timeout.ms", String.valueOf(kafka.deliveryTimeoutMs()));
    c.put("max.block.ms", String.valueOf(kafka.maxBlockMs()));
    c.put("reconnect.backoff.max.ms", "2000");
    return c;
  }

  /** A consumer in a group, with auto-commit off: offsets are committed only after the work is done. */
  public static Map<String, String> consumerConfig(AppConfig.Kafka kafka, String groupId, String clientId,
                                                   int maxPollRecords) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", kafka.bootstrap());
    c.put("group.id", groupId);
    c.put("client.id", clientId);
    c.put("key.deserializer", "org.apache.kafka.common.serialization.StringDeserializer");
    c.put("value.deserializer", "io.vertx.kafka.client.serialization.BufferDeserializer");
    c.put("enable.auto.commit", "false");
    c.put("auto.offset.reset", "earliest");
    c.put("max.poll.records", String.valueOf(maxPollRecords));
    c.put("session.timeout.ms", String.valueOf(kafka.sessionTimeoutMs()));
    c.put("heartbeat.interval.ms", String.valueOf(Math.max(500, kafka.sessionTimeoutMs() / 4)));
    c.put("isolation.level", "read_committed");
    c.put("partition.assignment.strategy", "org.apache.kafka.clients.consumer.CooperativeStickyAssignor");
    c.put("request.timeout.ms", String.valueOf(kafka.requestTimeoutMs()));
    c.put("reconnect.backoff.max.ms", "2000");
    return c;
  }

  public static Map<String, String> adminConfig(AppConfig.Kafka kafka) {
    Map<String, String> c = new HashMap<>();
    c.put("bootstrap.servers", kafka.bootstrap());
    c.put("request.timeout.ms", String.valueOf(kafka.requestTimeoutMs()));
    c.put("default.api.timeout.ms", String.valueOf(Math.max(kafka.requestTimeoutMs(), 15000)));
    return c;
  }

  /**
   * Vert.x's own Kafka tracing is off for our producers: {@link EventPublisher} makes the publish spans
   * and writes the one {@code traceparent} header (Vert.x's would be a second, for a span named
   * {@code kafka_send}).
   */
  public static KafkaProducer<String, Buffer> producer(Vertx vertx, AppConfig.Kafka kafka, String clientId) {
    return producer(vertx, kafka, clientId, UPLOAD_LINGER_MS);
  }

  public static KafkaProducer<String, Buffer> producer(Vertx vertx, AppConfig.Kafka kafka, String clientId,
                                                       int lingerMs) {
    Map<String, Object> config = new HashMap<>(producerConfig(kafka, clientId, lingerMs));
    KafkaClientOptions options = new KafkaClientOptions().setConfig(config).setTracingPolicy(TracingPolicy.IGNORE);
    // what KafkaProducer.create(vertx, map) builds, options aside: closed with the verticle that made it too
    return new KafkaProducerImpl<>(vertx, KafkaWriteStream.<String, Buffer>create(vertx,
        new org.apache.kafka.clients.producer.KafkaProducer<>(config), options)).registerCloseHook();
  }

  public static KafkaConsumer<String, Buffer> consumer(Vertx vertx, AppConfig.Kafka kafka, String groupId,
                                                        String clientId, int maxPollRecords) {
    return KafkaConsumer.create(vertx, consumerConfig(kafka, groupId, clientId, maxPollRecords));
  }
}
