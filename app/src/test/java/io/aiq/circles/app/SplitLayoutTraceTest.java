package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The chart's layout (API, inference and the results writer as three processes) with
 * {@code tracing.otlp-endpoint} pointing at a stand-in OTLP collector: the trace crosses the processes
 * through the events' {@code traceparent}, and each process exports its spans of that trace over OTLP
 * http/protobuf, under {@code service.name=aiq-circles} with its own roles.
 */
class SplitLayoutTraceTest {
  /** the bodies of the OTLP export requests received, as sent (protobuf) */
  static final List<Buffer> exports = new CopyOnWriteArrayList<>();
  static Vertx vertx;
  static HttpServer collector;
  static SplitLayout layout;

  @BeforeAll
  static void start() throws Exception {
    vertx = Vertx.vertx();
    collector = vertx.createHttpServer().requestHandler(req -> {
      if (req.method().name().equals("POST") && req.path().equals("/v1/traces")) {
        // answered once the whole body is in: an empty ExportTraceServiceResponse, as a collector's
        req.body().onComplete(body -> {
          if (body.succeeded()) {
            exports.add(body.result());
          }
          req.response().putHeader("Content-Type", "application/x-protobuf").end();
        });
      } else {
        req.response().setStatusCode(404).end();
      }
    }).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    layout = SplitLayout.start(new TestEnv(), new JsonObject().put("tracing",
        new JsonObject().put("otlp-endpoint", "http://127.0.0.1:" + collector.actualPort())));
  }

  @Test
  void each_process_says_at_start_that_it_traces_and_where_it_exports() {
    assertThat(layout.logs()).contains("tracing: on, exporting OTLP to http://127.0.0.1:" + collector.actualPort()
        + "/v1/traces, sample ratio 1.0");
  }

  @AfterAll
  static void stop() {
    try {
      layout.close();
    } finally {
      vertx.close();
    }
  }

  @Test
  void each_process_exports_its_spans_of_the_uploads_one_trace_over_otlp() throws InterruptedException {
    JsonObject accepted = layout.client.upload(TestImages.discs(256, 128, "png", 41), "split.png", "image/png")
        .bodyAsJsonObject();
    String jobId = accepted.getString("jobId");
    assertThat(layout.client.awaitJob(jobId, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");

    Topics topics = layout.config.kafka().topics();
    String submitted = traceparent(topics.imagesSubmitted(), jobId);
    String completed = traceparent(topics.detectionsCompleted(), jobId);
    String trace = submitted.split("-")[1];
    assertThat(completed.split("-")[1]).as("the results of the upload, published by the inference process")
        .isEqualTo(trace);

    // OTLP/protobuf holds a trace id as its 16 raw bytes and the resource attributes as UTF-8 strings
    byte[] traceId = HexFormat.of().parseHex(trace);
    for (String roles : List.of(SplitLayout.API_ROLES, "inference", "results")) {
      assertThat(awaitExport(traceId, roles)).as("an export from the %s process with a span of the trace%s", roles,
          layout.logs()).isTrue();
    }
  }

  static String traceparent(String topic, String jobId) {
    ConsumerRecord<String, String> record = TopicProbe.await(topic, 1, r -> r.value().contains(jobId),
        Duration.ofSeconds(10)).get(0);
    return TopicProbe.header(record, "traceparent");
  }

  /** Spans are exported in batches (every 5 s by default): waits up to 20 s for one of this trace and process. */
  static boolean awaitExport(byte[] traceId, String roles) throws InterruptedException {
    byte[] service = "aiq-circles".getBytes(StandardCharsets.UTF_8);
    byte[] role = roles.getBytes(StandardCharsets.UTF_8);
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (System.nanoTime() < deadline) {
      for (Buffer export : exports) {
        byte[] body = export.getBytes();
        if (contains(body, traceId) && contains(body, service) && containsExactString(body, role)) {
          return true;
        }
      }
      Thread.sleep(200);
    }
    return false;
  }

  static boolean contains(byte[] haystack, byte[] needle) {
    return indexOf(haystack, needle, 0) >= 0;
  }

  /** The roles as a whole protobuf string: its length byte just before it ("inference" is no part of another). */
  static boolean containsExactString(byte[] haystack, byte[] needle) {
    for (int at = indexOf(haystack, needle, 0); at >= 0; at = indexOf(haystack, needle, at + 1)) {
      if (at > 0 && haystack[at - 1] == needle.length) {
        return true;
      }
    }
    return false;
  }

  static int indexOf(byte[] haystack, byte[] needle, int from) {
    outer:
    for (int i = from; i <= haystack.length - needle.length; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (haystack[i + j] != needle[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }
}
