package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.JobCancelled;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.micrometer.core.instrument.Counter;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A job's life as a client and a downstream consumer see it: {@code GET /jobs} lists jobs newest first,
 * filtered by status and image, one page at a time with an opaque cursor; {@code DELETE /jobs/{jobId}}
 * cancels a job that has not finished (202, {@code cancelled}, a {@code JobCancelled} on
 * {@code aiq.jobs.cancelled}), again the same, 404 for an unknown job, 409 {@code job_finished} for a
 * finished one; inference then skips the cancelled job, and a late result does not overwrite it.
 *
 * <p>The API process (gateway, ingest, queries, results) runs without inference, so jobs stay queued
 * until a test starts an inference process on the same broker and database.
 */
class JobLifeApiTest {
  private static final JsonObject API = new JsonObject().put("roles", "gateway,ingest,queries,results")
      .put("rate-limit", new JsonObject().put("requests-per-second", 0));
  private static final AtomicInteger SEED = new AtomicInteger(900);
  private static TestEnv env;
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    env = new TestEnv();
    sys = new RunningApp(env, API);
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  private static RunningApp inference() {
    return new RunningApp(env, new JsonObject().put("roles", "inference")
        .put("http", new JsonObject().put("port", TestEnv.freePort())));
  }

  private static byte[] newImage() {
    return TestImages.discs(64, 48, "png", SEED.incrementAndGet());
  }

  private static JsonObject upload(byte[] bytes, boolean reprocess) {
    HttpResponse<Buffer> r = sys.api.uploadTo(reprocess ? "/images?reprocess=true" : "/images", bytes, "j.png",
        "image/png", null);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
    return r.bodyAsJsonObject();
  }

  private static HttpResponse<Buffer> cancel(String jobId) {
    return sys.api.request(HttpMethod.DELETE, "/jobs/" + jobId);
  }

  private static List<String> ids(JsonObject page) {
    List<String> out = new ArrayList<>();
    page.getJsonArray("items").forEach(j -> out.add(((JsonObject) j).getString("jobId")));
    return out;
  }

  private static JsonObject page(String path) {
    HttpResponse<Buffer> r = sys.api.get(path);
    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
    return r.bodyAsJsonObject();
  }

  @Test
  void jobs_are_listed_newest_first_a_page_at_a_time_each_as_GET_jobs_answers_it() {
    byte[] bytes = newImage();
    JsonObject first = upload(bytes, false);
    String imageId = first.getString("imageId");
    String second = upload(bytes, true).getString("jobId");
    String third = upload(bytes, true).getString("jobId");
    List<String> all = List.of(third, second, first.getString("jobId"));

    JsonObject page1 = page("/jobs?imageId=" + imageId + "&limit=2");
    JsonObject page2 = page(page1.getJsonObject("links").getString("next"));

    assertThat(ids(page1)).containsExactly(all.get(0), all.get(1));
    assertThat(page1.getString("nextCursor")).isNotBlank();
    assertThat(ids(page2)).containsExactly(all.get(2));
    assertThat(page2.getString("nextCursor")).isNull();
    assertThat(page2.getJsonObject("links").getValue("next")).isNull();
    assertThat(page1.getJsonArray("items").getJsonObject(0)).isEqualTo(page("/jobs/" + all.get(0)));
    assertThat(ids(page("/jobs?limit=1"))).containsExactly(all.get(0));
  }

  @Test
  void the_status_filter_lists_only_jobs_in_that_status() {
    byte[] bytes = newImage();
    String kept = upload(bytes, false).getString("jobId");
    JsonObject second = upload(bytes, true);
    String imageId = second.getString("imageId");
    assertThat(cancel(second.getString("jobId")).statusCode()).isEqualTo(202);

    assertThat(ids(page("/jobs?imageId=" + imageId + "&status=cancelled"))).containsExactly(second.getString("jobId"));
    assertThat(ids(page("/jobs?imageId=" + imageId + "&status=queued"))).containsExactly(kept);
    assertThat(ids(page("/jobs?status=cancelled"))).contains(second.getString("jobId")).doesNotContain(kept);
  }

  @Test
  void an_unknown_status_a_malformed_image_id_or_limit_and_a_cursor_not_given_out_are_400() {
    upload(newImage(), false);
    String cursor = page("/jobs?limit=1").getString("nextCursor");
    String decoded = new String(Base64.getUrlDecoder().decode(cursor));
    String tampered = Base64.getUrlEncoder().withoutPadding().encodeToString(decoded.replace(':', ';').getBytes());

    assertError(sys.api.get("/jobs?status=done"), 400, "bad_request");
    assertError(sys.api.get("/jobs?imageId=abc"), 400, "invalid_id");
    assertError(sys.api.get("/jobs?limit=0"), 400, "bad_request");
    assertError(sys.api.get("/jobs?limit=101"), 400, "bad_request");
    assertError(sys.api.get("/jobs?cursor=bm90LWEtY3Vyc29y"), 400, "invalid_cursor");
    assertError(sys.api.get("/jobs?cursor=%25%25"), 400, "invalid_cursor");
    assertError(sys.api.get("/jobs?cursor=" + tampered), 400, "invalid_cursor");
  }

  @Test
  void cancelling_a_queued_job_answers_202_with_it_cancelled_the_same_again_and_announces_it_once_per_request() {
    JsonObject accepted = upload(newImage(), false);
    String jobId = accepted.getString("jobId");
    String imageId = accepted.getString("imageId");
    double before = counter("aiq_jobs_cancelled_total");

    HttpResponse<Buffer> cancelled = cancel(jobId);
    HttpResponse<Buffer> again = cancel(jobId);

    assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(202);
    JsonObject job = cancelled.bodyAsJsonObject();
    assertThat(job.getString("jobId")).isEqualTo(jobId);
    assertThat(job.getString("status")).isEqualTo("cancelled");
    assertThat(job.getString("finishedAt")).isNotNull();
    assertThat(again.statusCode()).isEqualTo(202);
    assertThat(again.bodyAsJsonObject()).isEqualTo(job);
    assertThat(page("/jobs/" + jobId)).isEqualTo(job);
    ConsumerRecord<String, String> event = TopicProbe.await(sys.app.config().kafka().topics().jobsCancelled(), 1,
        r -> imageId.equals(r.key()), Duration.ofSeconds(30)).get(0);
    assertThat(TopicProbe.header(event, CloudEventHeaders.TYPE)).isEqualTo(JobCancelled.TYPE);
    JobCancelled payload = JobCancelled.fromJson(Buffer.buffer(event.value()));
    assertThat(payload.jobId()).isEqualTo(jobId);
    assertThat(payload.cancelledAt()).isEqualTo(Instant.parse(job.getString("finishedAt")));
    assertThat(counter("aiq_jobs_cancelled_total") - before).isEqualTo(1.0);
  }

  @Test
  void cancelling_an_unknown_job_is_404_and_a_malformed_id_400() {
    assertError(cancel(UUID.randomUUID().toString()), 404, "not_found");
    assertError(cancel("not-a-uuid"), 400, "invalid_id");
  }

  @Test
  void inference_skips_a_cancelled_job_a_late_result_does_not_overwrite_it_and_a_finished_job_is_409()
      throws Exception {
    String ran = upload(newImage(), false).getString("jobId");
    JsonObject skippedJob = upload(newImage(), false);
    String skipped = skippedJob.getString("jobId");
    assertThat(cancel(skipped).statusCode()).isEqualTo(202);

    try (RunningApp inference = inference()) {
      assertThat(sys.api.awaitJob(ran, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
      // every cancelled job of this database was submitted, and is skipped (other tests cancel some too)
      awaitCounter(inference, "aiq_inference_skipped_total", sys.count("SELECT count(*) FROM jobs WHERE status = 'cancelled'"),
          "reason", "cancelled");
    }

    var topics = sys.app.config().kafka().topics();
    assertThat(jobIdsOn(topics.detectionsStarted())).contains(ran).doesNotContain(skipped);
    assertThat(jobIdsOn(topics.detectionsCompleted())).contains(ran).doesNotContain(skipped);
    // a result for it anyway (inference was running it when the cancellation came)
    DetectionsCompleted late = new DetectionsCompleted(skipped, skippedJob.getString("imageId"), "late", "1",
        List.of(new Detection(new BoundingBox(1, 1, 5, 5), 0.9)), 3, Instant.now());
    RecordMetadata sent = TopicProbe.send(topics.detectionsCompleted(), skippedJob.getString("imageId"),
        late.toJson().encode());
    TopicProbe.awaitCommittedPast(sys.app.config().kafka().group("results"), sent.topic(), sent.partition(),
        sent.offset(), Duration.ofSeconds(30));
    JsonObject after = page("/jobs/" + skipped);
    assertThat(after.getString("status")).isEqualTo("cancelled");
    assertThat(after.getValue("objectCount")).isNull();
    assertThat(after.getValue("model")).isNull();

    HttpResponse<Buffer> finished = cancel(ran);
    assertError(finished, 409, "job_finished");
    assertThat(finished.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("succeeded");
    assertThat(page("/jobs/" + ran).getString("status")).isEqualTo("succeeded");
  }

  private static double counter(String name, String... tags) {
    return counter(sys, name, tags);
  }

  private static double counter(RunningApp app, String name, String... tags) {
    Counter c = app.registry.find(name).tags(tags).counter();
    return c == null ? 0 : c.count();
  }

  private static void awaitCounter(RunningApp app, String name, double value, String... tags) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos();
    while (counter(app, name, tags) < value && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(counter(app, name, tags)).as(name).isEqualTo(value);
  }

  /** The job ids of every event on the topic so far (read from its start to its end). */
  private static List<String> jobIdsOn(String topic) {
    Properties p = KafkaFixture.clientProperties();
    p.put("group.id", "probe-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    List<String> out = new ArrayList<>();
    try (KafkaConsumer<String, String> c = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      c.subscribe(List.of(topic));
      long deadline = System.nanoTime() + Duration.ofSeconds(5).toNanos();
      int emptyPolls = 0;
      while (System.nanoTime() < deadline && (out.isEmpty() || emptyPolls < 3)) {
        var records = c.poll(Duration.ofMillis(300));
        emptyPolls = records.isEmpty() ? emptyPolls + 1 : 0;
        records.forEach(r -> out.add(new JsonObject(r.value()).getString("jobId")));
      }
    }
    return out;
  }
}
