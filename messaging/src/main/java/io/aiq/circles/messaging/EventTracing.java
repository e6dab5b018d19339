package io.aiq.circles.messaging;

import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanContext;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.ContextInternal;
import io.vertx.core.json.JsonObject;
import io.vertx.core.shareddata.Shareable;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;

/**
 * The spans of the events, named as OpenTelemetry's messaging conventions name them: a producer span
 * {@code <topic> publish} for each event published, a consumer span {@code <topic> process} for each
 * record a {@link ConsumerLoop} handles. The {@code traceparent} header of an event is its publish
 * span's context, so a consumer (ours, or any other team's) continues the trace of the upload that
 * caused it.
 *
 * <p>One per Vert.x instance ({@link #install}, done by the app when {@code tracing.otlp-endpoint} is
 * set); without it {@link #OFF} is used, and nothing here costs more than a map lookup. Vert.x's Kafka
 * client is left out of tracing (see {@link KafkaClients#producer}): it would name its spans
 * {@code kafka_send} and add a second {@code traceparent} header beside ours, and it makes no
 * consumer spans for records read with {@code poll}, as ours are.
 */
public final class EventTracing implements Shareable {
  /** Tracing that is off: no spans, the publishers' own random or inherited trace contexts. */
  public static final EventTracing OFF = new EventTracing(null);

  private static final String MAP = "aiq.tracing";
  private static final String KEY = "event-tracing";
  private static final String INSTRUMENTATION = "io.aiq.circles.messaging";
  private static final TextMapGetter<Map<String, String>> MAP_GETTER = new TextMapGetter<>() {
    @Override
    public Iterable<String> keys(Map<String, String> carrier) {
      return carrier.keySet();
    }

    @Override
    public String get(Map<String, String> carrier, String key) {
      return carrier == null ? null : carrier.get(key);
    }
  };

  private final Tracer tracer;

  private EventTracing(Tracer tracer) {
    this.tracer = tracer;
  }

  /** Turns event spans on for everything that runs on this Vert.x instance. */
  public static void install(Vertx vertx, OpenTelemetry openTelemetry) {
    vertx.sharedData().<String, EventTracing>getLocalMap(MAP)
        .put(KEY, new EventTracing(openTelemetry.getTracer(INSTRUMENTATION)));
  }

  /** The event tracing of this Vert.x instance, {@link #OFF} unless {@link #install installed}. */
  public static EventTracing of(Vertx vertx) {
    EventTracing tracing = vertx.sharedData().<String, EventTracing>getLocalMap(MAP).get(KEY);
    return tracing == null ? OFF : tracing;
  }

  /** The event tracing of the Vert.x instance whose thread this is; {@link #OFF} off a Vert.x thread. */
  public static EventTracing current() {
    io.vertx.core.Context context = Vertx.currentContext();
    return context == null ? OFF : of(context.owner());
  }

  public boolean enabled() {
    return tracer != null;
  }

  /** A started publish span; {@link #end} it once the broker answered. */
  public record Publish(Span span, String traceparent) {
    public void end(Throwable failure) {
      if (failure != null) {
        span.recordException(failure);
        span.setStatus(StatusCode.ERROR, failure.toString());
      }
      span.end();
    }
  }

  /**
   * Starts the producer span of one event, a child of {@code cause} (the {@code traceparent} of the
   * work it is published for) or, without one, of the current span (the HTTP request's, through
   * Vert.x's context). Only when {@link #enabled}.
   */
  public Publish publish(String topic, String key, JsonObject value, String cause) {
    Context parent = cause == null ? Context.current() : contextOf(cause);
    Span span = tracer.spanBuilder(topic + " publish").setSpanKind(SpanKind.PRODUCER).setParent(parent)
        .setAttribute("messaging.system", "kafka")
        .setAttribute("messaging.operation.type", "send")
        .setAttribute("messaging.destination.name", topic)
        .setAttribute("messaging.kafka.message.key", key == null ? "" : key)
        .startSpan();
    tagIds(span, key, value);
    return new Publish(span, traceparent(span.getSpanContext()));
  }

  /** The process spans of one batch, in its order; {@link #end} them once the batch is handled. */
  public static final class Processing {
    private static final Processing NONE = new Processing(List.of());
    private final List<Span> spans;

    private Processing(List<Span> spans) {
      this.spans = spans;
    }

    /** @param done records done, from the first; the next one failed with {@code failure} */
    public void end(int done, Throwable failure) {
      for (int i = 0; i < spans.size(); i++) {
        if (i == done && failure != null) {
          spans.get(i).recordException(failure);
          spans.get(i).setStatus(StatusCode.ERROR, failure.toString());
        }
        spans.get(i).end();
      }
    }
  }

  /**
   * Starts a consumer span per record, each a child of its record's {@code traceparent}, and puts the
   * span's own context in the record's {@code traceparent} header: what the handler publishes for
   * the record (its {@link CloudEventHeaders#childOf child} events, its dead letter) and writes
   * ({@link #within}) then hangs under the record's processing.
   */
  public Processing process(List<KafkaConsumerRecord<String, Buffer>> records, String consumer) {
    if (!enabled() || records.isEmpty()) {
      return Processing.NONE;
    }
    List<Span> spans = new ArrayList<>(records.size());
    for (KafkaConsumerRecord<String, Buffer> record : records) {
      Headers headers = record.record().headers();
      Header incoming = headers.lastHeader(CloudEventHeaders.TRACEPARENT);
      Context parent = incoming == null || incoming.value() == null ? Context.root()
          : contextOf(new String(incoming.value(), StandardCharsets.UTF_8));
      Span span = tracer.spanBuilder(record.topic() + " process").setSpanKind(SpanKind.CONSUMER).setParent(parent)
          .setAttribute("messaging.system", "kafka")
          .setAttribute("messaging.operation.type", "process")
          .setAttribute("messaging.destination.name", record.topic())
          .setAttribute("messaging.destination.partition.id", String.valueOf(record.partition()))
          .setAttribute("messaging.kafka.offset", record.offset())
          .setAttribute("messaging.consumer.group.name", consumer)
          .setAttribute("messaging.kafka.message.key", record.key() == null ? "" : record.key())
          .setAttribute("aiq.image_id", record.key() == null ? "" : record.key())
          .startSpan();
      spans.add(span);
      headers.remove(CloudEventHeaders.TRACEPARENT);
      headers.add(CloudEventHeaders.TRACEPARENT, traceparent(span.getSpanContext()).getBytes(StandardCharsets.UTF_8));
    }
    return new Processing(spans);
  }

  /**
   * Runs the work of one record with its process span current (on a Vert.x context of its own), so
   * what Vert.x traces meanwhile (the PostgreSQL statements) are children of it. The returned future
   * completes on the caller's context. Without tracing, just the work.
   */
  public <T> Future<T> within(KafkaConsumerRecord<String, Buffer> record, Supplier<Future<T>> work) {
    ContextInternal caller = ContextInternal.current();
    String traceparent = CloudEventHeaders.get(record, CloudEventHeaders.TRACEPARENT);
    if (!enabled() || caller == null || traceparent == null) {
      return work.get();
    }
    Promise<T> done = caller.promise();
    ContextInternal own = caller.duplicate();
    own.runOnContext(v -> {
      // never closed: the duplicated context, and so this attachment, lives only as long as the work
      contextOf(traceparent).makeCurrent();
      Future<T> result;
      try {
        result = work.get();
      } catch (RuntimeException e) {
        result = Future.failedFuture(e);
      }
      result.onComplete(done);
    });
    return done.future();
  }

  /** The W3C {@code traceparent} of a span context. */
  public static String traceparent(SpanContext context) {
    return "00-" + context.getTraceId() + "-" + context.getSpanId() + "-" + context.getTraceFlags().asHex();
  }

  /** The span context a {@code traceparent} names, as a parent; the root context when it is not valid. */
  static Context contextOf(String traceparent) {
    return W3CTraceContextPropagator.getInstance()
        .extract(Context.root(), Map.of(CloudEventHeaders.TRACEPARENT, traceparent), MAP_GETTER);
  }

  /** Job and image ids as attributes: they are in every event's JSON, so they cost nothing to read. */
  private static void tagIds(Span span, String key, JsonObject value) {
    Object jobId = value == null ? null : value.getValue("jobId");
    Object imageId = value == null ? null : value.getValue("imageId");
    if (jobId instanceof String s) {
      span.setAttribute("aiq.job_id", s);
    }
    span.setAttribute("aiq.image_id", imageId instanceof String s ? s : key == null ? "" : key);
  }
}
