package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.aiq.circles.webhooks.WebhooksVerticle;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Webhooks through the whole system, as their receiver and the client see them: a real HTTP receiver
 * in the test (a Vert.x server that records what arrives and answers as each test tells it), the real
 * broker and database, and the app with every role, webhooks among them.
 */
class WebhookDeliveryTest {
  // the spec's form of a secret: whsec_ and the key's bytes in base64
  private static final byte[] KEY = "test-webhook-key-0123456789abcdef".getBytes(StandardCharsets.UTF_8);
  private static final String SECRET = "whsec_" + Base64.getEncoder().encodeToString(KEY);
  private static final int MAX_ATTEMPTS = 4;
  private static final long TIMEOUT_MS = 5000;
  private static final AtomicInteger SEED = new AtomicInteger(7100);

  private static RunningApp sys;
  private static Vertx receiverVertx;
  private static Receiver receiver;
  private static Receiver hangingReceiver;

  /** What a receiver got: one request. */
  record Received(String path, String query, String id, String timestamp, String signature, String userAgent,
                  String contentType, Buffer body, long arrivedNanos) {
    String jobId() {
      return new JsonObject(body).getString("jobId");
    }
  }

  /** A webhook receiver: records every request; answers 200, 500 or never, as its path asks. */
  static final class Receiver {
    final ConcurrentLinkedQueue<Received> requests = new ConcurrentLinkedQueue<>();
    final ConcurrentLinkedQueue<HttpServerRequest> held = new ConcurrentLinkedQueue<>();
    final HttpServer server;

    Receiver(Vertx vertx) throws Exception {
      server = vertx.createHttpServer().requestHandler(req -> req.body().onSuccess(body -> {
        long now = System.nanoTime();
        requests.add(new Received(req.path(), req.query(), req.getHeader("webhook-id"),
            req.getHeader("webhook-timestamp"), req.getHeader("webhook-signature"), req.getHeader("User-Agent"),
            req.getHeader("Content-Type"), body, now));
        String path = req.path();
        if (path.startsWith("/hang")) {
          held.add(req);
          return;
        }
        if (path.startsWith("/fail")) {
          req.response().setStatusCode(500).end("no");
          return;
        }
        if (path.startsWith("/flaky")) {
          // 500 to the first two attempts of this job's webhook, then 200
          String jobId = new JsonObject(body).getString("jobId");
          long before = requests.stream().filter(r -> r.path().equals(path) && jobId.equals(r.jobId())).count();
          req.response().setStatusCode(before <= 2 ? 500 : 200).end();
          return;
        }
        if (path.startsWith("/redirect")) {
          req.response().setStatusCode(307).putHeader("Location", "/ok").end();
          return;
        }
        req.response().setStatusCode(200).end("thanks");
      })).listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS);
    }

    String url(String path) {
      return "http://127.0.0.1:" + server.actualPort() + path;
    }

    List<Received> of(String jobId) {
      return requests.stream().filter(r -> jobId.equals(r.jobId())).toList();
    }
  }

  @BeforeAll
  static void start() throws Exception {
    receiverVertx = Vertx.vertx();
    receiver = new Receiver(receiverVertx);
    hangingReceiver = new Receiver(receiverVertx);
    sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("roles", "gateway,ingest,queries,inference,results,webhooks")
        .put("webhooks", new JsonObject().put("secret", SECRET).put("allow-private-targets", true)
            .put("timeout-ms", TIMEOUT_MS).put("max-attempts", MAX_ATTEMPTS).put("initial-backoff-ms", 400)
            .put("max-backoff-ms", 5000).put("poll-interval-ms", 50).put("max-per-host", 2)));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
    receiverVertx.close().await(10, TimeUnit.SECONDS);
  }

  @Test
  void a_finished_job_is_delivered_once_with_its_json_as_body_and_a_signature_that_verifies() throws Exception {
    String url = receiver.url("/ok/signed");
    String jobId = uploadWithCallback(url);

    Received webhook = awaitRequests(receiver, jobId, 1, Duration.ofSeconds(30)).get(0);
    JsonObject job = awaitWebhookState(jobId, "delivered");

    // the body is the job as GET /jobs/{jobId} shows it, but for its own delivery state
    JsonObject expected = job.copy();
    expected.remove("webhook");
    assertThat(new JsonObject(webhook.body())).isEqualTo(expected);
    assertThat(webhook.contentType()).startsWith("application/json");
    assertThat(webhook.id()).isNotBlank();
    assertThat(Long.parseLong(webhook.timestamp())).isCloseTo(Instant.now().getEpochSecond(), org.assertj.core.data.Offset.offset(30L));
    assertThat(webhook.signature()).isEqualTo(independentSignature(webhook.id(), webhook.timestamp(), webhook.body()));
    assertThat(webhook.userAgent()).startsWith("aiq-circles-webhooks/");
    assertThat(job.getJsonObject("webhook").getString("url")).isEqualTo(url);
    assertThat(job.getJsonObject("webhook").getInteger("attempts")).isEqualTo(1);
    assertThat(job.getJsonObject("webhook").getString("deliveredAt")).isNotNull();
    Thread.sleep(1000);
    assertThat(receiver.of(jobId)).as("one delivery only").hasSize(1);
  }

  @Test
  void the_form_field_callbackUrl_works_as_the_query_parameter_does() {
    String url = receiver.url("/ok/form");
    HttpResponse<Buffer> r = sys.api.uploadForm(MultipartForm.create().attribute("callbackUrl", url)
        .binaryFileUpload("file", "c.png", Buffer.buffer(newImage()), "image/png"));
    String jobId = RunningApp.acceptedJob(r);

    assertThat(awaitRequests(receiver, jobId, 1, Duration.ofSeconds(30)).get(0).path()).isEqualTo("/ok/form");
  }

  @Test
  void a_receiver_failing_twice_gets_the_same_webhook_id_three_times_with_growing_gaps_and_the_job_shows_delivered()
      throws Exception {
    String jobId = uploadWithCallback(receiver.url("/flaky"));

    List<Received> attempts = awaitRequests(receiver, jobId, 3, Duration.ofSeconds(30));
    JsonObject webhook = awaitWebhookState(jobId, "delivered").getJsonObject("webhook");

    assertThat(attempts).extracting(Received::id).containsOnly(attempts.get(0).id());
    long firstGap = attempts.get(1).arrivedNanos() - attempts.get(0).arrivedNanos();
    long secondGap = attempts.get(2).arrivedNanos() - attempts.get(1).arrivedNanos();
    assertThat(firstGap).as("the first back-off").isGreaterThanOrEqualTo(TimeUnit.MILLISECONDS.toNanos(250));
    assertThat(secondGap).as("the back-off grows").isGreaterThan(firstGap);
    // each attempt is signed anew, over its own timestamp
    for (Received a : attempts) {
      assertThat(a.signature()).isEqualTo(independentSignature(a.id(), a.timestamp(), a.body()));
    }
    assertThat(webhook.getInteger("attempts")).isEqualTo(3);
    assertThat(webhook.getString("lastError")).isNull();
    Thread.sleep(1000);
    assertThat(receiver.of(jobId)).hasSize(3);
  }

  @Test
  void a_receiver_that_always_fails_ends_failed_after_max_attempts_with_a_dead_letter() {
    String jobId = uploadWithCallback(receiver.url("/fail"));

    JsonObject webhook = awaitWebhookState(jobId, "failed").getJsonObject("webhook");

    assertThat(webhook.getInteger("attempts")).isEqualTo(MAX_ATTEMPTS);
    assertThat(webhook.getString("lastError")).contains("500");
    assertThat(receiver.of(jobId)).hasSize(MAX_ATTEMPTS);
    ConsumerRecord<String, String> dead = TopicProbe.await(sys.app.config().kafka().topics().deadLetter(), 1,
        r -> jobId.equals(r.key()), Duration.ofSeconds(30)).get(0);
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_REASON)).isEqualTo(WebhooksVerticle.DEAD_LETTER_REASON);
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_ATTEMPTS)).isEqualTo(String.valueOf(MAX_ATTEMPTS));
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_TOPIC))
        .isEqualTo(sys.app.config().kafka().topics().detectionsCompleted());
    assertThat(TopicProbe.header(dead, CloudEventHeaders.DLQ_GROUP)).isEqualTo(sys.app.config().kafka().group("webhooks"));
    assertThat(TopicProbe.header(dead, CloudEventHeaders.TYPE)).isEqualTo(WebhooksVerticle.DEAD_LETTER_TYPE);
    JsonObject value = new JsonObject(dead.value());
    assertThat(value.getString("url")).isEqualTo(receiver.url("/fail"));
    assertThat(value.getString("lastError")).contains("500");
  }

  @Test
  void a_redirect_is_not_followed_and_counts_as_a_failed_attempt() {
    String jobId = uploadWithCallback(receiver.url("/redirect"));

    List<Received> attempts = awaitRequests(receiver, jobId, 2, Duration.ofSeconds(30));

    assertThat(attempts).extracting(Received::path).containsOnly("/redirect");
    assertThat(sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getJsonObject("webhook").getString("lastError"))
        .contains("307");
  }

  @Test
  void a_receiver_that_hangs_does_not_delay_the_webhooks_of_another() throws Exception {
    // three to the hanging receiver: two hold its target's slots (max-per-host 2), the third waits
    List<String> hanging = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      hanging.add(uploadWithCallback(hangingReceiver.url("/hang/" + i)));
    }
    awaitUntil(() -> hangingReceiver.held.size() >= 2, Duration.ofSeconds(30), "two webhooks held by the hanging receiver");

    long sent = System.nanoTime();
    String jobId = uploadWithCallback(receiver.url("/ok/beside-a-hang"));
    Received webhook = awaitRequests(receiver, jobId, 1, Duration.ofSeconds(30)).get(0);

    assertThat(TimeUnit.NANOSECONDS.toMillis(webhook.arrivedNanos() - sent))
        .as("delivered while the hanging receiver still holds its attempts").isLessThan(TIMEOUT_MS - 1000);
    assertThat(hangingReceiver.held).as("still hanging").hasSizeGreaterThanOrEqualTo(2);
    assertThat(hangingReceiver.requests.size()).as("no more than max-per-host to one target at once").isLessThanOrEqualTo(2);
    awaitWebhookState(jobId, "delivered");
    for (String h : hanging) {
      assertThat(sys.api.get("/jobs/" + h).bodyAsJsonObject().getJsonObject("webhook").getString("state"))
          .isEqualTo("pending");
    }
  }

  @Test
  void a_redelivered_kafka_event_does_not_send_a_second_webhook() throws Exception {
    String jobId = uploadWithCallback(receiver.url("/ok/redelivered"));
    awaitRequests(receiver, jobId, 1, Duration.ofSeconds(30));
    awaitWebhookState(jobId, "delivered");
    String topic = sys.app.config().kafka().topics().detectionsCompleted();
    ConsumerRecord<String, String> event = TopicProbe.await(topic, 1,
        r -> r.value() != null && r.value().contains(jobId), Duration.ofSeconds(30)).get(0);

    RecordMetadata again = TopicProbe.send(topic, event.key(), event.value());
    TopicProbe.awaitCommittedPast(sys.app.config().kafka().group("webhooks"), topic, again.partition(),
        again.offset(), Duration.ofSeconds(30));
    Thread.sleep(1000);

    assertThat(receiver.of(jobId)).hasSize(1);
    assertThat(sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getJsonObject("webhook").getInteger("attempts"))
        .isEqualTo(1);
  }

  @Test
  void the_jobs_listing_shows_each_jobs_webhook_as_the_job_itself_does() {
    String jobId = uploadWithCallback(receiver.url("/ok/listed"));
    JsonObject job = awaitWebhookState(jobId, "delivered");
    String plain = RunningApp.acceptedJob(sys.api.upload(newImage(), "c.png", "image/png"));
    sys.api.awaitJob(plain, Duration.ofSeconds(30));

    JsonArray items = sys.api.get("/jobs?limit=100").bodyAsJsonObject().getJsonArray("items");

    JsonObject listed = find(items, jobId);
    assertThat(listed.getJsonObject("webhook")).isEqualTo(job.getJsonObject("webhook"));
    assertThat(find(items, plain).containsKey("webhook")).isFalse();
    JsonObject byImage = find(sys.api.get("/jobs?imageId=" + job.getString("imageId") + "&status=succeeded")
        .bodyAsJsonObject().getJsonArray("items"), jobId);
    assertThat(byImage.getJsonObject("webhook").getString("state")).isEqualTo("delivered");
  }

  private static JsonObject find(JsonArray items, String jobId) {
    return items.stream().map(JsonObject.class::cast).filter(j -> jobId.equals(j.getString("jobId"))).findFirst()
        .orElseThrow(() -> new AssertionError(jobId + " not listed in " + items.encode()));
  }

  @Test
  void a_job_without_a_callback_shows_no_webhook() {
    HttpResponse<Buffer> r = sys.api.upload(newImage(), "c.png", "image/png");
    String jobId = RunningApp.acceptedJob(r);

    JsonObject job = sys.api.awaitJob(jobId, Duration.ofSeconds(30));

    assertThat(job.containsKey("webhook")).isFalse();
  }

  @Test
  void malformed_callback_urls_are_refused_with_400_before_anything_is_stored() {
    long jobsBefore = sys.count("SELECT count(*) FROM jobs");
    for (String url : List.of("ftp://example.com/hook", "not a url", "/relative", "https://user:pw@example.com/",
        "http://example.com/" + "a".repeat(2100))) {
      ApiKeyTest.assertError(uploadTo(url, newImage()), 400, "invalid_callback_url");
    }
    assertThat(sys.count("SELECT count(*) FROM jobs")).isEqualTo(jobsBefore);
  }

  @Test
  void a_callback_url_given_twice_is_refused_with_400_in_the_query_and_in_the_form() {
    long jobsBefore = sys.count("SELECT count(*) FROM jobs");
    String a = URLEncoder.encode(receiver.url("/twice/a"), StandardCharsets.UTF_8);
    String b = URLEncoder.encode(receiver.url("/twice/b"), StandardCharsets.UTF_8);
    HttpResponse<Buffer> query = sys.api.send(sys.api.web().post("/images?callbackUrl=" + a + "&callbackUrl=" + b)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.png", Buffer.buffer(newImage()),
            "image/png")));
    HttpResponse<Buffer> form = sys.api.send(sys.api.web().post("/images")
        .sendMultipartForm(MultipartForm.create().attribute("callbackUrl", receiver.url("/twice/a"))
            .attribute("callbackUrl", receiver.url("/twice/b"))
            .binaryFileUpload("file", "c.png", Buffer.buffer(newImage()), "image/png")));

    ApiKeyTest.assertError(query, 400, "invalid_callback_url");
    ApiKeyTest.assertError(form, 400, "invalid_callback_url");
    assertThat(sys.count("SELECT count(*) FROM jobs")).isEqualTo(jobsBefore);
  }

  @Test
  void private_targets_are_refused_with_400_unless_allowed() {
    try (RunningApp strict = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries")
        .put("webhooks", new JsonObject().put("secret", SECRET)))) {
      for (String url : List.of("http://127.0.0.1:8080/hook", "http://localhost/hook", "http://[::1]/hook",
          "http://169.254.169.254/latest/meta-data/", "http://10.1.2.3/", "http://192.168.0.10/",
          "http://[::ffff:127.0.0.1]/", "http://0.0.0.0/")) {
        HttpResponse<Buffer> r = strict.api.send(strict.api.web()
            .post("/images?callbackUrl=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
            .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.png", Buffer.buffer(newImage()),
                "image/png")));
        ApiKeyTest.assertError(r, 400, "invalid_callback_url");
      }
      assertThat(strict.count("SELECT count(*) FROM jobs")).isZero();
    }
    // this class's app allows them (webhooks.allow-private-targets: true): every other test here uses 127.0.0.1
    assertThat(uploadTo(receiver.url("/ok/allowed"), newImage()).statusCode()).isEqualTo(202);
  }

  @Test
  void without_a_secret_a_callback_is_refused_with_400_webhooks_disabled() {
    try (RunningApp off = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries"))) {
      HttpResponse<Buffer> r = off.api.send(off.api.web().post("/images?callbackUrl="
              + URLEncoder.encode("https://example.com/hook", StandardCharsets.UTF_8))
          .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.png", Buffer.buffer(newImage()),
              "image/png")));
      ApiKeyTest.assertError(r, 400, "webhooks_disabled");
      assertThat(off.count("SELECT count(*) FROM jobs")).isZero();
    }
  }

  @Test
  void the_webhooks_role_refuses_to_start_without_a_secret() {
    Throwable failure = null;
    try (RunningApp ignored = new RunningApp(new TestEnv(), new JsonObject().put("roles", "webhooks"))) {
      // started: wrong
    } catch (IllegalStateException e) {
      failure = e.getCause();
    }
    assertThat(failure).isInstanceOf(io.aiq.circles.config.ConfigException.class);
    assertThat(failure.getMessage()).contains("webhooks.secret").contains("AIQ_WEBHOOKS_SECRET");
  }

  @Test
  void deliveries_are_counted_by_outcome_and_attempts_timed() {
    String jobId = uploadWithCallback(receiver.url("/ok/metrics"));
    awaitWebhookState(jobId, "delivered");

    String metrics = sys.api.get("/metrics").bodyAsString();

    assertThat(metrics).containsPattern("aiq_webhook_deliveries_total\\{[^}]*outcome=\"delivered\"");
    assertThat(metrics).containsPattern("aiq_webhook_attempt_seconds_count\\{[^}]*outcome=\"delivered\"");
  }

  @Test
  void a_cancelled_job_is_delivered_with_its_cancelled_status() {
    // no inference role: the job stays queued until the client cancels it
    try (RunningApp noInference = new RunningApp(new TestEnv(), new JsonObject()
        .put("roles", "gateway,ingest,queries,results,webhooks")
        .put("webhooks", new JsonObject().put("secret", SECRET).put("allow-private-targets", true)
            .put("poll-interval-ms", 50)))) {
      String url = receiver.url("/ok/cancelled");
      String jobId = RunningApp.acceptedJob(noInference.api.send(noInference.api.web()
          .post("/images?callbackUrl=" + URLEncoder.encode(url, StandardCharsets.UTF_8))
          .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.png", Buffer.buffer(newImage()),
              "image/png"))));

      HttpResponse<Buffer> cancelled = noInference.api.request(io.vertx.core.http.HttpMethod.DELETE, "/jobs/" + jobId);

      assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(202);
      Received webhook = awaitRequests(receiver, jobId, 1, Duration.ofSeconds(30)).get(0);
      assertThat(new JsonObject(webhook.body()).getString("status")).isEqualTo("cancelled");
    }
  }

  @Test
  void an_image_whose_job_sent_its_webhook_can_be_deleted_and_its_delivery_goes_with_it() {
    String jobId = uploadWithCallback(receiver.url("/ok/deleted"));
    String imageId = awaitWebhookState(jobId, "delivered").getString("imageId");

    HttpResponse<Buffer> deleted = sys.api.request(io.vertx.core.http.HttpMethod.DELETE, "/images/" + imageId);

    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertThat(sys.api.get("/jobs/" + jobId).statusCode()).isEqualTo(404);
    assertThat(sys.count("SELECT count(*) FROM webhook_deliveries WHERE job_id = '" + jobId + "'")).isZero();
  }

  @Test
  void the_served_openapi_document_describes_callbackUrl_the_job_webhook_and_the_callback_request() {
    JsonObject spec = new JsonObject((java.util.Map<String, Object>) new org.yaml.snakeyaml.Yaml()
        .load(sys.api.get("/openapi.yaml").bodyAsString()));
    String jobId = uploadWithCallback(receiver.url("/ok/documented"));
    JsonObject webhook = awaitWebhookState(jobId, "delivered").getJsonObject("webhook");

    assertThat(spec.getJsonObject("components").getJsonObject("parameters").getJsonObject("CallbackUrl")
        .getString("name")).isEqualTo("callbackUrl");
    JsonObject documented = spec.getJsonObject("components").getJsonObject("schemas").getJsonObject("Webhook");
    assertThat(documented.getJsonObject("properties").fieldNames()).containsExactlyInAnyOrderElementsOf(webhook.fieldNames());
    assertThat(spec.getJsonObject("components").getJsonObject("schemas").getJsonObject("Job")
        .getJsonObject("properties").containsKey("webhook")).isTrue();
    JsonObject callback = spec.getJsonObject("webhooks").getJsonObject("jobFinished").getJsonObject("post");
    assertThat(callback.getJsonArray("parameters").stream().map(p -> ((JsonObject) p).getString("name")).toList())
        .contains("webhook-id", "webhook-timestamp", "webhook-signature");
  }

  // ---- helpers -------------------------------------------------------------------------------------

  private static byte[] newImage() {
    return TestImages.discs(96, 80, "png", SEED.incrementAndGet());
  }

  private static HttpResponse<Buffer> uploadTo(String callbackUrl, byte[] image) {
    return sys.api.send(sys.api.web().post("/images?callbackUrl=" + URLEncoder.encode(callbackUrl, StandardCharsets.UTF_8))
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "c.png", Buffer.buffer(image), "image/png")));
  }

  private static String uploadWithCallback(String callbackUrl) {
    return RunningApp.acceptedJob(uploadTo(callbackUrl, newImage()));
  }

  /** v1,base64(HMAC-SHA256(key, id.timestamp.body)), computed here without the service's signer. */
  private static String independentSignature(String id, String timestamp, Buffer body) throws Exception {
    Mac mac = Mac.getInstance("HmacSHA256");
    mac.init(new SecretKeySpec(KEY, "HmacSHA256"));
    mac.update((id + "." + timestamp + ".").getBytes(StandardCharsets.UTF_8));
    return "v1," + Base64.getEncoder().encodeToString(mac.doFinal(body.getBytes()));
  }

  private static List<Received> awaitRequests(Receiver r, String jobId, int count, Duration timeout) {
    awaitUntil(() -> r.of(jobId).size() >= count, timeout, count + " webhook requests for job " + jobId);
    return r.of(jobId);
  }

  private static JsonObject awaitWebhookState(String jobId, String state) {
    JsonObject[] last = new JsonObject[1];
    Predicate<JsonObject> reached = job -> job.getJsonObject("webhook") != null
        && state.equals(job.getJsonObject("webhook").getString("state"));
    awaitUntil(() -> reached.test(last[0] = sys.api.get("/jobs/" + jobId).bodyAsJsonObject()), Duration.ofSeconds(60),
        "webhook of job " + jobId + " " + state);
    return last[0];
  }

  private static void awaitUntil(java.util.function.BooleanSupplier condition, Duration timeout, String what) {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      if (condition.getAsBoolean()) {
        return;
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new AssertionError(e);
      }
    }
    throw new AssertionError("not within " + timeout + ": " + what);
  }
}
