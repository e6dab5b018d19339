package io.aiq.circles.messaging;

import io.aiq.circles.contracts.events.EventSchemas;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import io.vertx.kafka.client.producer.KafkaProducer;
import io.vertx.kafka.client.producer.KafkaProducerRecord;
import io.vertx.kafka.client.producer.RecordMetadata;
import java.time.Instant;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes events as JSON with CloudEvents headers. A returned future succeeds only once the broker
 * acknowledged the record ({@code acks=all}); callers commit their own input only after that.
 */
public final class EventPublisher {
  private static final Logger LOG = LoggerFactory.getLogger(EventPublisher.class);
  private final KafkaProducer<String, Buffer> producer;
  private final String source;
  private final boolean validate;

  /**
   * @param source the CloudEvents {@code source} of everything this publisher sends, e.g.
   *               {@code /aiq-circles/ingest}
   */
  public EventPublisher(KafkaProducer<String, Buffer> producer, String source) {
    this(producer, source, EventSchemas.validationRequested());
  }

  /**
   * @param validate check each event against its JSON Schema ({@link EventSchemas}) before sending, and
   *                 fail the publish of one that breaks it; the default is the system property
   *                 {@value EventSchemas#VALIDATE_PROPERTY}, which every test run sets
   */
  public EventPublisher(KafkaProducer<String, Buffer> producer, String source, boolean validate) {
    this.producer = producer;
    this.source = source;
    this.validate = validate;
  }

  public Future<RecordMetadata> publish(String topic, String key, String type, JsonObject value,
                                        String traceparent) {
    InvalidEventException refused = breach("publish", topic, type, value);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    KafkaProducerRecord<String, Buffer> record = cloudEvent(topic, key, type, value);
    EventTracing tracing = EventTracing.current();
    if (!tracing.enabled()) {
      record.addHeader(CloudEventHeaders.TRACEPARENT,
          traceparent == null ? CloudEventHeaders.newTraceparent() : traceparent);
      return producer.send(record);
    }
    // with tracing on, the event carries its publish span, a child of the work it is published for
    EventTracing.Publish span = tracing.publish(topic, key, value, traceparent);
    record.addHeader(CloudEventHeaders.TRACEPARENT, span.traceparent());
    return producer.send(record).onComplete(ar -> span.end(ar.cause()));
  }

  /**
   * With validation on (a contract test, not a production guard), why {@code value} breaks the JSON
   * Schema of {@code type}, logged; null when it conforms or validation is off.
   */
  private InvalidEventException breach(String action, String topic, String type, JsonObject value) {
    if (!validate) {
      return null;
    }
    List<String> problems = EventSchemas.shared().problems(type, value);
    if (problems.isEmpty()) {
      return null;
    }
    InvalidEventException refused = new InvalidEventException("refused to " + action + " on " + topic + ": " + type
        + " does not conform to its JSON Schema: " + String.join("; ", problems) + " in " + value.encode());
    LOG.error(refused.getMessage());
    return refused;
  }

  /** {@code value} under {@code key} on {@code topic}, with the CloudEvents headers of {@code type}. */
  private KafkaProducerRecord<String, Buffer> cloudEvent(String topic, String key, String type, JsonObject value) {
    KafkaProducerRecord<String, Buffer> record = KafkaProducerRecord.create(topic, key, value.toBuffer());
    record.addHeader(CloudEventHeaders.SPEC_VERSION, "1.0")
        .addHeader(CloudEventHeaders.ID, UUID.randomUUID().toString())
        .addHeader(CloudEventHeaders.TYPE, type)
        .addHeader(CloudEventHeaders.SOURCE, source)
        .addHeader(CloudEventHeaders.TIME, Instant.now().toString())
        .addHeader(CloudEventHeaders.SUBJECT, key)
        .addHeader(CloudEventHeaders.CONTENT_TYPE, "application/json");
    return record;
  }

  /**
   * Copies a record that cannot be processed to the dead-letter topic, unchanged, with headers that
   * say why and where it came from, so an operator can inspect and replay it.
   */
  public Future<RecordMetadata> deadLetter(String dlqTopic, KafkaConsumerRecord<String, Buffer> original,
                                           String group, String reason, String message, int attempts) {
    KafkaProducerRecord<String, Buffer> record =
        KafkaProducerRecord.create(dlqTopic, original.key(), original.value());
    for (KafkaHeader h : original.headers()) {
      record.addHeader(h);
    }
    record.addHeader(CloudEventHeaders.DLQ_REASON, reason)
        .addHeader(CloudEventHeaders.DLQ_MESSAGE, message == null ? "" : message)
        .addHeader(CloudEventHeaders.DLQ_TOPIC, original.topic())
        .addHeader(CloudEventHeaders.DLQ_PARTITION, String.valueOf(original.partition()))
        .addHeader(CloudEventHeaders.DLQ_OFFSET, String.valueOf(original.offset()))
        .addHeader(CloudEventHeaders.DLQ_GROUP, group)
        .addHeader(CloudEventHeaders.DLQ_ATTEMPTS, String.valueOf(attempts));
    return producer.send(record);
  }

  /**
   * A dead letter for work that failed after the record it came from was committed (a webhook
   * delivery given up): {@code value} under {@code key}, CloudEvents headers of {@code type}, and the
   * dead-letter headers of {@link #deadLetter(String, KafkaConsumerRecord, String, String, String, int)}
   * naming that record's topic, partition and offset.
   */
  public Future<RecordMetadata> deadLetter(String dlqTopic, String key, String type, JsonObject value,
                                           String originTopic, int originPartition, long originOffset,
                                           String group, String reason, String message, int attempts) {
    // a record of its own (not a copy of another): it has a schema like any event
    InvalidEventException refused = breach("dead-letter", dlqTopic, type, value);
    if (refused != null) {
      return Future.failedFuture(refused);
    }
    KafkaProducerRecord<String, Buffer> record = cloudEvent(dlqTopic, key, type, value);
    record.addHeader(CloudEventHeaders.DLQ_REASON, reason)
        .addHeader(CloudEventHeaders.DLQ_MESSAGE, message == null ? "" : message)
        .addHeader(CloudEventHeaders.DLQ_TOPIC, originTopic)
        .addHeader(CloudEventHeaders.DLQ_PARTITION, String.valueOf(originPartition))
        .addHeader(CloudEventHeaders.DLQ_OFFSET, String.valueOf(originOffset))
        .addHeader(CloudEventHeaders.DLQ_GROUP, group)
        .addHeader(CloudEventHeaders.DLQ_ATTEMPTS, String.valueOf(attempts));
    return producer.send(record);
  }

  public Future<Void> close() {
    return producer.close();
  }
}
