package io.aiq.circles.messaging;

import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaHeader;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * Header names of the CloudEvents Kafka binding (binary mode) and the W3C trace context, so any
 * consumer can route and correlate events without parsing their JSON.
 */
public final class CloudEventHeaders {
  public static final String ID = "ce_id";
  public static final String TYPE = "ce_type";
  public static final String SOURCE = "ce_source";
  public static final String TIME = "ce_time";
  public static final String SPEC_VERSION = "ce_specversion";
  public static final String SUBJECT = "ce_subject";
  public static final String CONTENT_TYPE = "content-type";
  public static final String TRACEPARENT = "traceparent";

  /** Dead-letter headers: why and where the record failed. */
  public static final String DLQ_REASON = "aiq_dlq_reason";
  public static final String DLQ_MESSAGE = "aiq_dlq_message";
  public static final String DLQ_TOPIC = "aiq_dlq_topic";
  public static final String DLQ_PARTITION = "aiq_dlq_partition";
  public static final String DLQ_OFFSET = "aiq_dlq_offset";
  public static final String DLQ_GROUP = "aiq_dlq_consumer_group";
  public static final String DLQ_ATTEMPTS = "aiq_dlq_attempts";

  private static final SecureRandom RANDOM = new SecureRandom();

  private CloudEventHeaders() {
  }

  /** The value of a header, or null. */
  public static String get(KafkaConsumerRecord<?, ?> record, String name) {
    return get(record.headers(), name);
  }

  public static String get(List<KafkaHeader> headers, String name) {
    for (KafkaHeader h : headers) {
      if (h.key().equals(name)) {
        Buffer v = h.value();
        return v == null ? null : v.toString();
      }
    }
    return null;
  }

  /**
   * A new W3C trace context ({@code 00-traceid-spanid-01}) for work that starts here; with tracing
   * on, the current span's (the HTTP request that led here), so the event continues its trace, or,
   * with no span current (a sweeper's timer), the invalid context: {@link EventPublisher} then starts
   * a trace of its own with the event's publish span, and the event carries that.
   */
  public static String newTraceparent() {
    SpanContext current = Span.current().getSpanContext();
    if (current.isValid()) {
      return EventTracing.traceparent(current);
    }
    if (EventTracing.current().enabled()) {
      return EventTracing.traceparent(SpanContext.getInvalid());
    }
    byte[] trace = new byte[16];
    byte[] span = new byte[8];
    RANDOM.nextBytes(trace);
    RANDOM.nextBytes(span);
    HexFormat hex = HexFormat.of();
    return "00-" + hex.formatHex(trace) + "-" + hex.formatHex(span) + "-01";
  }

  /**
   * The same trace, a new span: the context an event published on behalf of another carries. With
   * tracing on, the context itself: the new span is the publish span {@link EventPublisher} starts
   * as its child.
   */
  public static String childOf(String traceparent) {
    if (traceparent == null || traceparent.length() != 55) {
      return newTraceparent();
    }
    if (EventTracing.current().enabled()) {
      return traceparent;
    }
    byte[] span = new byte[8];
    RANDOM.nextBytes(span);
    return traceparent.substring(0, 36) + HexFormat.of().formatHex(span) + traceparent.substring(52);
  }
}
