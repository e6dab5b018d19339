package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.micrometer.core.instrument.Gauge;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientResponse;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code GET /jobs/{jobId}/events} as a client reads it: a {@code text/event-stream} of
 * {@code event: status} events, each with an {@code id} and the job's JSON, from its current state to
 * its end (queued, processing, succeeded, in order; or cancelled), after which the server closes it;
 * heartbeat comments in between; a 404 JSON error for an unknown job; 503 + Retry-After beyond
 * {@code jobs.max-event-streams}, and a client that goes away frees its place.
 *
 * <p>The API process runs without inference (jobs stay queued) and with a one-second heartbeat; a test
 * that needs a job to run starts an inference process whose model takes a second per image.
 */
class JobEventStreamTest {
  private static final int MAX_STREAMS = 3;
  private static final AtomicInteger SEED = new AtomicInteger(1700);
  private static TestEnv env;
  private static RunningApp sys;
  private static HttpClient http;

  @BeforeAll
  static void start() {
    env = new TestEnv();
    sys = new RunningApp(env, new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("rate-limit", new JsonObject().put("requests-per-second", 0))
        .put("jobs", new JsonObject().put("max-event-streams", MAX_STREAMS).put("event-heartbeat-seconds", 1)));
    http = sys.vertx.createHttpClient();
  }

  @AfterAll
  static void stop() {
    http.close();
    sys.close();
  }

  /** What a client of one stream received. */
  static final class Stream {
    final HttpClientResponse response;
    final StringBuilder text = new StringBuilder();
    final Promise<Void> ended = Promise.promise();

    Stream(HttpClientResponse response) {
      this.response = response;
    }

    synchronized String text() {
      return text.toString();
    }

    /** The events received so far: each one's fields (id, event, data). */
    List<JsonObject> events() {
      List<JsonObject> out = new ArrayList<>();
      for (String block : text().split("\n\n")) {
        JsonObject e = new JsonObject();
        for (String line : block.split("\n")) {
          int colon = line.indexOf(':');
          if (colon > 0) {
            e.put(line.substring(0, colon), line.substring(colon + 1).strip());
          }
        }
        if (e.containsKey("event")) {
          out.add(e);
        }
      }
      return out;
    }

    List<String> statuses() {
      return events().stream().map(e -> new JsonObject(e.getString("data")).getString("status")).toList();
    }

    void awaitEnd(Duration timeout) throws Exception {
      ended.future().await(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    void awaitText(String part, Duration timeout) throws InterruptedException {
      long deadline = System.nanoTime() + timeout.toNanos();
      while (!text().contains(part) && System.nanoTime() < deadline) {
        Thread.sleep(20);
      }
      assertThat(text()).contains(part);
    }
  }

  private static Stream open(String jobId) throws Exception {
    Future<Stream> opened = http.request(new RequestOptions().setMethod(HttpMethod.GET).setHost("127.0.0.1")
            .setPort(sys.app.httpPort()).setURI("/jobs/" + jobId + "/events").putHeader("Accept", "text/event-stream"))
        .compose(req -> req.send())
        .map(resp -> {
          Stream s = new Stream(resp);
          resp.handler(b -> {
            synchronized (s) {
              s.text.append(b.toString());
            }
          });
          resp.endHandler(v -> s.ended.tryComplete());
          resp.exceptionHandler(e -> s.ended.tryFail(e));
          return s;
        });
    return opened.await(30, TimeUnit.SECONDS);
  }

  private static String queuedJob() {
    return RunningApp.acceptedJob(sys.api.upload(TestImages.discs(64, 48, "png", SEED.incrementAndGet()), "s.png",
        "image/png"));
  }

  private static double openStreams() {
    Gauge g = sys.registry.find("aiq_job_event_streams").gauge();
    return g == null ? -1 : g.value();
  }

  @Test
  void a_job_that_runs_streams_queued_processing_succeeded_in_order_then_the_server_ends_the_stream() throws Exception {
    String jobId = queuedJob();
    Stream stream = open(jobId);
    stream.awaitText("\"status\":\"queued\"", Duration.ofSeconds(10));

    try (RunningApp inference = new RunningApp(env, new JsonObject().put("roles", "inference")
        .put("dummy", new JsonObject().put("delay-ms", 1500)).put("http", new JsonObject().put("port", TestEnv.freePort())))) {
      stream.awaitEnd(Duration.ofSeconds(60));
    }

    assertThat(stream.response.statusCode()).isEqualTo(200);
    assertThat(stream.response.getHeader("Content-Type")).startsWith("text/event-stream");
    assertThat(stream.statuses()).containsExactly("queued", "processing", "succeeded");
    List<JsonObject> events = stream.events();
    assertThat(events).allSatisfy(e -> {
      assertThat(e.getString("event")).isEqualTo("status");
      assertThat(e.getString("id")).isNotBlank();
    });
    assertThat(events.stream().map(e -> e.getString("id")).distinct().count()).isEqualTo(3);
    JsonObject last = new JsonObject(events.get(2).getString("data"));
    assertThat(last).isEqualTo(sys.api.get("/jobs/" + jobId).bodyAsJsonObject());
    assertThat(last.getInteger("objectCount")).isEqualTo(3);
  }

  @Test
  void a_cancelled_job_streams_cancelled_last_and_the_stream_ends() throws Exception {
    String jobId = queuedJob();
    Stream stream = open(jobId);
    stream.awaitText("\"status\":\"queued\"", Duration.ofSeconds(10));

    assertThat(sys.api.request(HttpMethod.DELETE, "/jobs/" + jobId).statusCode()).isEqualTo(202);
    stream.awaitEnd(Duration.ofSeconds(10));

    assertThat(stream.statuses()).containsExactly("queued", "cancelled");
  }

  @Test
  void a_finished_job_streams_its_state_once_and_ends() throws Exception {
    String jobId = queuedJob();
    sys.api.request(HttpMethod.DELETE, "/jobs/" + jobId);

    Stream stream = open(jobId);
    stream.awaitEnd(Duration.ofSeconds(10));

    assertThat(stream.statuses()).containsExactly("cancelled");
  }

  @Test
  void while_nothing_happens_heartbeat_comments_keep_the_stream_open() throws Exception {
    Stream stream = open(queuedJob());

    stream.awaitText(": heartbeat", Duration.ofSeconds(5));

    assertThat(stream.ended.future().isComplete()).isFalse();
    assertThat(stream.statuses()).containsExactly("queued");
    stream.response.request().connection().close();
  }

  @Test
  void an_unknown_job_is_404_json_and_a_malformed_id_400_before_any_stream() {
    assertError(sys.api.get("/jobs/" + UUID.randomUUID() + "/events"), 404, "not_found");
    assertError(sys.api.get("/jobs/not-a-job/events"), 400, "invalid_id");
  }

  @Test
  void beyond_max_event_streams_a_stream_is_503_with_retry_after_and_a_client_that_leaves_frees_its_place()
      throws Exception {
    awaitOpenStreams(0);
    List<Stream> streams = new CopyOnWriteArrayList<>();
    for (int i = 0; i < MAX_STREAMS; i++) {
      Stream s = open(queuedJob());
      s.awaitText("\"status\":\"queued\"", Duration.ofSeconds(10));
      streams.add(s);
    }

    HttpResponse<Buffer> refused = sys.api.get("/jobs/" + queuedJob() + "/events");
    streams.get(0).response.request().connection().close();
    awaitOpenStreams(MAX_STREAMS - 1);
    Stream again = open(queuedJob());

    assertError(refused, 503, "unavailable");
    assertThat(refused.getHeader("Retry-After")).isNotBlank();
    assertThat(again.response.statusCode()).isEqualTo(200);
    for (Stream s : streams) {
      s.response.request().connection().close();
    }
    again.response.request().connection().close();
    awaitOpenStreams(0);
  }

  private static void awaitOpenStreams(double n) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (openStreams() != n && System.nanoTime() < deadline) {
      Thread.sleep(20);
    }
    assertThat(openStreams()).isEqualTo(n);
  }
}
