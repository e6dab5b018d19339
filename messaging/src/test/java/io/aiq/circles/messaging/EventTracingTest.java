package io.aiq.circles.messaging;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TopicProbe;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.StatusCode;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.kafka.client.producer.KafkaProducer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Event spans with tracing installed on a Vert.x instance, on a real broker: the consumer loop
 * processes each record in a span of its own under the span its {@code traceparent} names, and what a
 * handler publishes for a record is a publish span under that processing, whose context the event
 * carries. Each test has its own topics and group.
 */
class EventTracingTest {
  private static final String TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
  private static final String UPSTREAM_SPAN = "00f067aa0ba902b7";

  private final Vertx vertx = Vertx.vertx();
  private final InMemorySpanExporter spans = InMemorySpanExporter.create();
  private final OpenTelemetrySdk sdk = OpenTelemetrySdk.builder()
      .setTracerProvider(SdkTracerProvider.builder().addSpanProcessor(SimpleSpanProcessor.create(spans)).build()).build();
  private final String topic = "traced-" + UUID.randomUUID();
  private final String answers = "traced-answers-" + UUID.randomUUID();
  private final String group = "traced-group-" + UUID.randomUUID();
  /** the traceparent each record had when the handler saw it, by value */
  private final Map<String, String> seen = new ConcurrentHashMap<>();
  private ConsumerLoop loop;
  private EventPublisher publisher;

  @BeforeEach
  void setUp() throws Exception {
    EventTracing.install(vertx, sdk);
    try (Admin admin = Admin.create(KafkaFixture.clientProperties())) {
      admin.createTopics(List.of(new NewTopic(topic, 1, (short) 1), new NewTopic(answers, 1, (short) 1)))
          .all().get(30, TimeUnit.SECONDS);
    }
    Map<String, String> config = new HashMap<>();
    KafkaFixture.clientProperties().forEach((k, v) -> config.put(k.toString(), v.toString()));
    publisher = new EventPublisher(KafkaProducer.create(vertx, config, String.class, Buffer.class), "/aiq-circles/test");
  }

  @AfterEach
  void tearDown() throws Exception {
    if (loop != null) {
      loop.stop().await(30, TimeUnit.SECONDS);
    }
    publisher.close().await(10, TimeUnit.SECONDS);
    vertx.close().await(10, TimeUnit.SECONDS);
    sdk.close();
  }

  /** Sends a record as an upstream service would: with the traceparent of one of its spans. */
  private void sendTraced(String value) throws Exception {
    try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<>(KafkaFixture.clientProperties(),
        new StringSerializer(), new StringSerializer())) {
      ProducerRecord<String, String> record = new ProducerRecord<>(topic, "image-1", value);
      record.headers().add(CloudEventHeaders.TRACEPARENT,
          ("00-" + TRACE + "-" + UPSTREAM_SPAN + "-01").getBytes(StandardCharsets.UTF_8));
      producer.send(record).get(10, TimeUnit.SECONDS);
    }
  }

  private void consume(ConsumerLoop.BatchHandler handler) throws Exception {
    KafkaConsumer<String, Buffer> consumer = KafkaConsumer.create(vertx, KafkaFixture.consumerConfig(group, 8));
    loop = new ConsumerLoop(vertx, consumer, List.of(topic), Duration.ofMillis(100), handler, new Backoff(20, 100),
        new ConsumerLoop.RetryPolicy(2, e -> false), (record, cause, attempts) -> Future.succeededFuture(), "test");
    loop.start().await(30, TimeUnit.SECONDS);
  }

  private SpanData awaitSpan(String name, int count) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      List<SpanData> found = spans.getFinishedSpanItems().stream().filter(s -> s.getName().equals(name)).toList();
      if (found.size() >= count) {
        return found.get(count - 1);
      }
      Thread.sleep(50);
    }
    throw new AssertionError("no span " + name + " among " + spans.getFinishedSpanItems());
  }

  @Test
  void a_record_is_processed_in_a_consumer_span_under_the_span_its_traceparent_names() throws Exception {
    sendTraced("a");
    consume(records -> {
      records.forEach(r -> seen.put(r.value().toString(), CloudEventHeaders.get(r, CloudEventHeaders.TRACEPARENT)));
      return Future.succeededFuture(ConsumerLoop.Handled.all(records));
    });

    SpanData process = awaitSpan(topic + " process", 1);
    assertThat(process.getKind()).isEqualTo(SpanKind.CONSUMER);
    assertThat(process.getTraceId()).isEqualTo(TRACE);
    assertThat(process.getParentSpanId()).isEqualTo(UPSTREAM_SPAN);
    assertThat(process.getAttributes().asMap().toString()).contains("messaging.destination.name=" + topic)
        .contains("aiq.image_id=image-1");
    assertThat(seen.get("a")).as("the handler sees its record's processing as the record's trace context")
        .isEqualTo(EventTracing.traceparent(process.getSpanContext()));
  }

  @Test
  void a_record_whose_handling_fails_ends_its_process_span_as_an_error() throws Exception {
    sendTraced("poison");
    consume(records -> Future.succeededFuture(ConsumerLoop.Handled.upTo(0, new IllegalStateException("cannot"))));

    SpanData process = awaitSpan(topic + " process", 1);
    assertThat(process.getStatus().getStatusCode()).isEqualTo(StatusCode.ERROR);
    assertThat(process.getStatus().getDescription()).contains("cannot");
  }

  @Test
  void an_event_published_for_a_record_is_a_publish_span_under_its_processing_and_carries_that_span()
      throws Exception {
    sendTraced("b");
    consume(records -> Future.all(records.stream().map(r -> publisher.publish(answers, r.key(), DetectionStarted.TYPE,
            new DetectionStarted(UUID.randomUUID().toString(), "ab".repeat(32), Instant.now()).toJson(),
            CloudEventHeaders.childOf(CloudEventHeaders.get(r, CloudEventHeaders.TRACEPARENT)))).toList())
        .map(v -> ConsumerLoop.Handled.all(records)));

    SpanData process = awaitSpan(topic + " process", 1);
    SpanData publish = awaitSpan(answers + " publish", 1);
    assertThat(publish.getKind()).isEqualTo(SpanKind.PRODUCER);
    assertThat(publish.getTraceId()).isEqualTo(TRACE);
    assertThat(publish.getParentSpanId()).isEqualTo(process.getSpanId());
    var answer = TopicProbe.await(answers, 1, Duration.ofSeconds(10)).get(0);
    assertThat(TopicProbe.header(answer, CloudEventHeaders.TRACEPARENT))
        .isEqualTo(EventTracing.traceparent(publish.getSpanContext()));
  }

  @Test
  void work_that_starts_without_a_span_publishes_an_event_whose_publish_span_starts_a_trace() throws Exception {
    // a sweeper's timer: a Vert.x thread with tracing on and no span current
    vertx.runOnContext(v -> publisher.publish(answers, "image-2", DetectionStarted.TYPE,
        new DetectionStarted(UUID.randomUUID().toString(), "cd".repeat(32), Instant.now()).toJson(),
        CloudEventHeaders.newTraceparent()));

    SpanData publish = awaitSpan(answers + " publish", 1);
    assertThat(publish.getParentSpanContext().isValid()).as("a root span").isFalse();
    var answer = TopicProbe.await(answers, 1, Duration.ofSeconds(10)).get(0);
    assertThat(TopicProbe.header(answer, CloudEventHeaders.TRACEPARENT))
        .isEqualTo(EventTracing.traceparent(publish.getSpanContext()));
  }
}
