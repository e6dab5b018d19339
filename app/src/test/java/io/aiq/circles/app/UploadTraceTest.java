package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.opentelemetry.api.common.AttributeKey;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With tracing on, one upload is one trace: the HTTP request's server span, ingest's handling of it on
 * the event bus, the publish span of ImageSubmitted, inference's process span, the publish span of
 * DetectionsCompleted, the results writer's process span and its PostgreSQL statements, each the
 * child of the one before; and the {@code traceparent} the events carry is that trace. The whole app
 * runs in this JVM with every span handed to an in-memory exporter.
 */
class UploadTraceTest {
  static final AttributeKey<String> JOB_ID = AttributeKey.stringKey("aiq.job_id");
  static final InMemorySpanExporter spans = InMemorySpanExporter.create();
  static RunningApp sys;
  static Topics topics;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), null, config -> Tracing.exportingTo(spans, config));
    topics = sys.app.config().kafka().topics();
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  /** An upload that went all the way: its job id and the spans of its trace, once results processed it. */
  record Traced(String jobId, String imageId, SpanData http, List<SpanData> trace) {
    SpanData one(String name, SpanKind kind) {
      List<SpanData> found = trace.stream().filter(s -> s.getName().equals(name) && s.getKind() == kind).toList();
      assertThat(found).as("spans named %s (%s) in %s", name, kind, names()).hasSize(1);
      return found.get(0);
    }

    /** The publish span of an event of this job (other jobs' events share the topics). */
    SpanData publishOf(String topic) {
      List<SpanData> found = trace.stream().filter(s -> s.getName().equals(topic + " publish")
          && s.getKind() == SpanKind.PRODUCER && jobId.equals(s.getAttributes().get(JOB_ID))).toList();
      assertThat(found).as("publish spans of %s in %s", topic, names()).hasSize(1);
      return found.get(0);
    }

    SpanData processOf(SpanData publish, String topic) {
      List<SpanData> found = trace.stream().filter(s -> s.getName().equals(topic + " process")
          && s.getKind() == SpanKind.CONSUMER && s.getParentSpanId().equals(publish.getSpanId())).toList();
      assertThat(found).as("process spans of %s under its publish span in %s", topic, names()).hasSize(1);
      return found.get(0);
    }

    boolean descendsFrom(SpanData span, SpanData ancestor) {
      Optional<SpanData> at = Optional.of(span);
      while (at.isPresent()) {
        if (at.get().getSpanId().equals(ancestor.getSpanId())) {
          return true;
        }
        String parent = at.get().getParentSpanId();
        at = trace.stream().filter(s -> s.getSpanId().equals(parent)).findFirst();
      }
      return false;
    }

    List<String> names() {
      return trace.stream().map(s -> s.getName() + "(" + s.getKind() + ")").toList();
    }
  }

  static Traced uploadAndTrace(String name, int seed) {
    JsonObject accepted = sys.api.upload(TestImages.discs(256, 128, "png", seed), name, "image/png").bodyAsJsonObject();
    String jobId = accepted.getString("jobId");
    assertThat(sys.api.awaitJob(jobId, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");
    SpanData http = awaitSpan(s -> s.getKind() == SpanKind.SERVER && s.getName().equals("POST /images")
        && spans.getFinishedSpanItems().stream().anyMatch(p -> jobId.equals(p.getAttributes().get(JOB_ID))
        && p.getTraceId().equals(s.getTraceId())));
    // the results writer's process span ends with its batch, just after the job's status was written
    awaitSpan(s -> s.getName().equals(topics.detectionsCompleted() + " process") && s.getTraceId().equals(http.getTraceId()));
    List<SpanData> trace = spans.getFinishedSpanItems().stream().filter(s -> s.getTraceId().equals(http.getTraceId())).toList();
    return new Traced(jobId, accepted.getString("imageId"), http, trace);
  }

  static SpanData awaitSpan(Predicate<SpanData> wanted) {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (System.nanoTime() < deadline) {
      Optional<SpanData> found = spans.getFinishedSpanItems().stream().filter(wanted).findFirst();
      if (found.isPresent()) {
        return found.get();
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("no such span within 10 s among "
        + spans.getFinishedSpanItems().stream().map(SpanData::getName).toList());
  }

  @Test
  void every_span_of_an_upload_shares_the_trace_of_its_http_request() {
    Traced t = uploadAndTrace("one-trace.png", 21);

    List<SpanData> ofThisJob = spans.getFinishedSpanItems().stream()
        .filter(s -> t.jobId().equals(s.getAttributes().get(JOB_ID))).toList();
    assertThat(ofThisJob).extracting(SpanData::getName).contains(topics.imagesSubmitted() + " publish",
        topics.detectionsStarted() + " publish", topics.detectionsCompleted() + " publish");
    assertThat(ofThisJob).allSatisfy(s -> assertThat(s.getTraceId()).isEqualTo(t.http().getTraceId()));
    assertThat(t.http().getParentSpanId()).as("the HTTP request starts the trace").isEqualTo("0000000000000000");
  }

  @Test
  void the_spans_chain_from_the_http_request_through_inference_to_the_results_writer() {
    Traced t = uploadAndTrace("chain.png", 22);

    SpanData submitted = t.publishOf(topics.imagesSubmitted());
    assertThat(t.descendsFrom(submitted, t.http())).as("ImageSubmitted is published within the request, via ingest: %s",
        t.names()).isTrue();
    SpanData inference = t.processOf(submitted, topics.imagesSubmitted());
    SpanData completed = t.publishOf(topics.detectionsCompleted());
    assertThat(completed.getParentSpanId()).isEqualTo(inference.getSpanId());
    SpanData started = t.publishOf(topics.detectionsStarted());
    assertThat(started.getParentSpanId()).isEqualTo(inference.getSpanId());
    SpanData results = t.processOf(completed, topics.detectionsCompleted());
    assertThat(results.getAttributes().get(AttributeKey.stringKey("messaging.destination.name")))
        .isEqualTo(topics.detectionsCompleted());
    assertThat(t.http().getAttributes().get(AttributeKey.stringKey("http.route"))).isEqualTo("/images");
  }

  @Test
  void the_results_writers_database_statements_are_spans_under_its_processing_of_the_event() {
    Traced t = uploadAndTrace("statements.png", 23);

    SpanData results = t.processOf(t.publishOf(topics.detectionsCompleted()), topics.detectionsCompleted());
    List<SpanData> statements = t.trace().stream()
        .filter(s -> s.getKind() == SpanKind.CLIENT && s.getParentSpanId().equals(results.getSpanId())).toList();
    assertThat(statements).as("PostgreSQL spans under %s in %s", results.getName(), t.names()).isNotEmpty();
    assertThat(statements).allSatisfy(s -> assertThat(s.getAttributes().get(AttributeKey.stringKey("db.system")))
        .isEqualTo("postgresql"));
  }

  @Test
  void the_traceparent_of_each_event_names_its_publish_span_in_the_uploads_trace() {
    Traced t = uploadAndTrace("headers.png", 24);

    for (String topic : List.of(topics.imagesSubmitted(), topics.detectionsCompleted())) {
      ConsumerRecord<String, String> record = TopicProbe.await(topic, 1, r -> r.value().contains(t.jobId()),
          Duration.ofSeconds(10)).get(0);
      List<Header> traceparents = new ArrayList<>();
      record.headers().headers("traceparent").forEach(traceparents::add);
      assertThat(traceparents).as("one traceparent header on %s", topic).hasSize(1);
      SpanData publish = t.publishOf(topic);
      assertThat(TopicProbe.header(record, "traceparent"))
          .isEqualTo("00-" + t.http().getTraceId() + "-" + publish.getSpanId() + "-"
              + publish.getSpanContext().getTraceFlags().asHex());
      assertThat(publish.getSpanContext().isSampled()).isTrue();
    }
  }

  @Test
  void an_upload_that_comes_with_a_traceparent_joins_the_callers_trace() {
    String callerTrace = "0af7651916cd43dd8448eb211c80319c";
    String callerSpan = "b7ad6b7169203331";
    HttpResponse<Buffer> upload = sys.api.send(sys.api.web().post("/images").putHeader("Content-Type", "image/png")
        .putHeader("traceparent", "00-" + callerTrace + "-" + callerSpan + "-01")
        .sendBuffer(Buffer.buffer(TestImages.discs(256, 128, "png", 25))));
    String jobId = RunningApp.acceptedJob(upload);
    assertThat(sys.api.awaitJob(jobId, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");

    SpanData http = awaitSpan(s -> s.getKind() == SpanKind.SERVER && s.getTraceId().equals(callerTrace)
        && s.getName().equals("POST /images"));
    assertThat(http.getParentSpanId()).isEqualTo(callerSpan);
    ConsumerRecord<String, String> completed = TopicProbe.await(topics.detectionsCompleted(), 1,
        r -> r.value().contains(jobId), Duration.ofSeconds(10)).get(0);
    assertThat(TopicProbe.header(completed, "traceparent")).startsWith("00-" + callerTrace + "-");
  }
}
