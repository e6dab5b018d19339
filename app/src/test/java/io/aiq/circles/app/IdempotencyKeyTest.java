package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code Idempotency-Key} on {@code POST /images}: the same key with the same request returns the
 * first answer (same status, body and job, marked {@code Idempotency-Replayed: true}) and submits
 * nothing again; the same key with other files is 422 {@code idempotency_key_reused}; a key still in
 * flight is 409; a malformed key is 400; a 5xx is never replayed; keys expire; with API keys on, each
 * client's keys are its own.
 */
class IdempotencyKeyTest {
  private static final AtomicInteger SIZES = new AtomicInteger(100);
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    // the retention sweep, which forgets expired keys, runs often here
    sys = new RunningApp(new TestEnv(), new JsonObject().put("retention", new JsonObject().put("interval-ms", 200)));
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  private static byte[] freshImage() {
    int w = SIZES.incrementAndGet();
    return TestImages.discs(w, 50, "png", w);
  }

  private static Future<HttpResponse<Buffer>> post(RunningApp app, String path, String key, byte[]... files) {
    MultipartForm form = MultipartForm.create();
    for (int i = 0; i < files.length; i++) {
      form.binaryFileUpload("file", "f" + i + ".png", Buffer.buffer(files[i]), "image/png");
    }
    var request = app.api.web().post(path);
    if (key != null) {
      request.putHeader("Idempotency-Key", key);
    }
    return request.sendMultipartForm(form);
  }

  private static HttpResponse<Buffer> upload(String path, String key, byte[]... files) {
    return sys.api.send(post(sys, path, key, files));
  }

  private static String newKey() {
    return UUID.randomUUID().toString();
  }

  private static long jobsOf(String imageId) {
    return sys.count("SELECT count(*) FROM jobs WHERE image_id = '" + imageId + "'");
  }

  private static void execute(String sql) {
    try (Connection c = PostgresFixture.connect(sys.env.databaseUrl()); Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void the_same_key_and_bytes_again_replay_the_first_answer_and_submit_nothing_again_even_with_reprocess() {
    String key = newKey();
    byte[] image = freshImage();

    HttpResponse<Buffer> first = upload("/images?reprocess=true", key, image);
    HttpResponse<Buffer> again = upload("/images?reprocess=true", key, image);

    assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(202);
    assertThat(first.getHeader("Idempotency-Replayed")).isNull();
    assertThat(again.statusCode()).isEqualTo(202);
    assertThat(again.getHeader("Idempotency-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(again.getHeader("Location")).isEqualTo(first.getHeader("Location"));
    assertThat(jobsOf(first.bodyAsJsonObject().getString("imageId"))).isEqualTo(1);
  }

  @Test
  void a_batch_answer_is_replayed_whole() {
    String key = newKey();
    byte[] a = freshImage();
    byte[] b = freshImage();

    HttpResponse<Buffer> first = upload("/images", key, a, TestImages.text(), b);
    HttpResponse<Buffer> again = upload("/images", key, a, TestImages.text(), b);

    assertThat(first.statusCode()).as(first.bodyAsString()).isEqualTo(202);
    assertThat(again.getHeader("Idempotency-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
    assertThat(jobsOf(first.bodyAsJsonObject().getJsonArray("items").getJsonObject(0).getString("imageId"))).isEqualTo(1);
  }

  @Test
  void a_bad_files_4xx_is_kept_as_the_keys_answer() {
    String key = newKey();
    HttpResponse<Buffer> first = sys.api.send(sys.api.web().post("/images").putHeader("Idempotency-Key", key)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "evil.jpg", Buffer.buffer(TestImages.text()),
            "image/jpeg")));
    HttpResponse<Buffer> again = sys.api.send(sys.api.web().post("/images").putHeader("Idempotency-Key", key)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "evil.jpg", Buffer.buffer(TestImages.text()),
            "image/jpeg")));

    assertThat(first.statusCode()).isEqualTo(415);
    assertThat(again.statusCode()).isEqualTo(415);
    assertThat(again.getHeader("Idempotency-Replayed")).isEqualTo("true");
    assertThat(again.bodyAsJsonObject()).isEqualTo(first.bodyAsJsonObject());
  }

  @Test
  void the_same_key_with_other_bytes_or_other_parameters_is_refused_with_422() {
    String key = newKey();
    assertThat(upload("/images", key, freshImage()).statusCode()).isEqualTo(202);

    HttpResponse<Buffer> other = upload("/images", key, freshImage());
    HttpResponse<Buffer> reprocess = upload("/images?reprocess=true", key, freshImage());

    assertThat(other.statusCode()).as(other.bodyAsString()).isEqualTo(422);
    assertThat(other.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("idempotency_key_reused");
    assertThat(other.getHeader("Idempotency-Replayed")).isNull();
    assertThat(reprocess.statusCode()).isEqualTo(422);
  }

  @Test
  void a_malformed_key_is_refused_with_400_and_nothing_is_stored() {
    long images = sys.count("SELECT count(*) FROM images");
    for (String key : List.of("", "\"\"", "k".repeat(256), "tab\tinside")) {
      HttpResponse<Buffer> r = upload("/images", key, freshImage());
      assertThat(r.statusCode()).as("key '%s': %s", key, r.bodyAsString()).isEqualTo(400);
      assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("Idempotency-Key");
    }
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images);
    assertThat(upload("/images", "\"" + "k".repeat(255) + "\"", freshImage()).statusCode()).isEqualTo(202);
  }

  @Test
  void two_keys_in_one_request_are_refused_with_400_and_nothing_is_stored() {
    long images = sys.count("SELECT count(*) FROM images");
    HttpResponse<Buffer> r = sys.api.send(sys.api.web().post("/images").putHeader("Idempotency-Key",
        List.of(newKey(), newKey())).sendMultipartForm(MultipartForm.create()
        .binaryFileUpload("file", "c.png", Buffer.buffer(freshImage()), "image/png")));

    assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(400);
    assertThat(r.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("more than once");
    assertThat(sys.count("SELECT count(*) FROM images")).isEqualTo(images);
  }

  @Test
  void two_requests_with_one_key_at_once_get_one_job_and_either_a_409_or_the_same_answer() {
    String key = newKey();
    byte[] image = freshImage();

    List<HttpResponse<Buffer>> answers = Future.all(post(sys, "/images", key, image), post(sys, "/images", key, image))
        .map(all -> List.<HttpResponse<Buffer>>of(all.resultAt(0), all.resultAt(1)))
        .toCompletionStage().toCompletableFuture().join();

    HttpResponse<Buffer> accepted = answers.stream().filter(r -> r.getHeader("Idempotency-Replayed") == null
        && r.statusCode() == 202).findFirst().orElseThrow(() -> new AssertionError("no 202: " + answers));
    HttpResponse<Buffer> other = answers.get(answers.get(0) == accepted ? 1 : 0);
    if (other.statusCode() == 409) {
      assertThat(other.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("idempotency_key_in_flight");
    } else {
      assertThat(other.getHeader("Idempotency-Replayed")).isEqualTo("true");
      assertThat(other.bodyAsJsonObject()).isEqualTo(accepted.bodyAsJsonObject());
    }
    assertThat(jobsOf(accepted.bodyAsJsonObject().getString("imageId"))).isEqualTo(1);
  }

  @Test
  void an_expired_key_is_forgotten_and_may_be_used_afresh() throws Exception {
    String key = newKey();
    assertThat(upload("/images", key, freshImage()).statusCode()).isEqualTo(202);

    execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = '" + key + "'");

    HttpResponse<Buffer> fresh = upload("/images", key, freshImage());
    assertThat(fresh.statusCode()).as(fresh.bodyAsString()).isEqualTo(202);
    assertThat(fresh.getHeader("Idempotency-Replayed")).isNull();
    // and the sweep deletes what has expired
    execute("UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE idem_key = '" + key + "'");
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
    while (System.nanoTime() < deadline && sys.count("SELECT count(*) FROM idempotency_keys WHERE idem_key = '" + key
        + "'") > 0) {
      Thread.sleep(100);
    }
    assertThat(sys.count("SELECT count(*) FROM idempotency_keys WHERE idem_key = '" + key + "'")).isZero();
  }

  @Test
  void a_503_is_not_replayed_and_a_retry_with_the_key_is_answered_afresh() throws Exception {
    try (RunningApp busy = new RunningApp(new TestEnv(), new JsonObject()
        // no inference yet: every accepted upload waits, and the backlog bound (1 job) is soon passed
        .put("roles", "gateway,ingest,queries,results")
        .put("upload", new JsonObject().put("max-queued-jobs", 1).put("max-backlog-seconds", 0)))) {
      String key = newKey();
      byte[] image = freshImage();
      HttpResponse<Buffer> refused = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (refused == null && System.nanoTime() < deadline) {
        HttpResponse<Buffer> r = busy.api.send(post(busy, "/images", key, image));
        if (r.statusCode() == 503) {
          refused = r;
        } else {
          // accepted: fill the backlog with others (the key's own answer must not be kept as a 202 yet)
          assertThat(r.statusCode()).as(r.bodyAsString()).isIn(202, 409);
          key = newKey();
          image = freshImage();
        }
        Thread.sleep(150);
      }
      assertThat(refused).as("an upload refused within 30 s").isNotNull();
      assertThat(refused.getHeader("Retry-After")).isNotNull();

      busy.vertx.deployVerticle(new InferenceVerticle(busy.app.config(), new DummyDetector(), busy.registry))
          .await(30, TimeUnit.SECONDS);
      HttpResponse<Buffer> retried = null;
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (System.nanoTime() < deadline && (retried == null || retried.statusCode() == 503)) {
        Thread.sleep(200);
        retried = busy.api.send(post(busy, "/images", key, image));
      }
      assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(202);
      assertThat(retried.getHeader("Idempotency-Replayed")).isNull();
      HttpResponse<Buffer> replayed = busy.api.send(post(busy, "/images", key, image));
      assertThat(replayed.getHeader("Idempotency-Replayed")).isEqualTo("true");
      assertThat(replayed.bodyAsJsonObject().getString("jobId")).isEqualTo(retried.bodyAsJsonObject().getString("jobId"));
      assertThat(busy.api.awaitJob(retried.bodyAsJsonObject().getString("jobId"), Duration.ofSeconds(30))
          .getString("status")).isEqualTo("succeeded");
    }
  }

  /** An app without inference: accepted jobs stay queued, and the backlog bound is {@code maxQueued} jobs. */
  private static RunningApp withoutInference(int maxQueued) {
    return new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("upload", new JsonObject().put("max-queued-jobs", maxQueued).put("max-backlog-seconds", 0)));
  }

  /** Waits until the gateway's reading of the backlog (one a second) is this many jobs. */
  private static void awaitBacklog(RunningApp app, int jobs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
    while (System.nanoTime() < deadline) {
      if (app.api.get("/metrics").bodyAsString().lines().anyMatch(l -> l.startsWith("aiq_admission_backlog_jobs")
          && l.endsWith(" " + jobs + ".0"))) {
        return;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("the backlog never read " + jobs + " jobs");
  }

  @Test
  void a_request_with_a_key_whose_first_request_is_still_being_answered_gets_409() throws Exception {
    try (RunningApp slow = withoutInference(0)) {
      String key = newKey();
      byte[] image = freshImage();
      // held in flight by Prefer: wait, since without inference the job does not finish
      MultipartForm form = MultipartForm.create().binaryFileUpload("file", "f0.png", Buffer.buffer(image), "image/png");
      Future<HttpResponse<Buffer>> first = slow.api.web().post("/images").putHeader("Idempotency-Key", key)
          .putHeader("Prefer", "wait=4").sendMultipartForm(form);
      Thread.sleep(1500);

      HttpResponse<Buffer> second = slow.api.send(post(slow, "/images", key, image));

      assertThat(second.statusCode()).as(second.bodyAsString()).isEqualTo(409);
      assertThat(second.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("idempotency_key_in_flight");
      HttpResponse<Buffer> answered = slow.api.send(first);
      assertThat(answered.statusCode()).isEqualTo(202);
      HttpResponse<Buffer> third = slow.api.send(post(slow, "/images", key, image));
      assertThat(third.getHeader("Idempotency-Replayed")).isEqualTo("true");
      assertThat(third.bodyAsJsonObject().getString("jobId")).isEqualTo(answered.bodyAsJsonObject().getString("jobId"));
    }
  }

  @Test
  void a_batch_refused_503_by_admission_after_its_key_was_claimed_is_not_kept_and_its_retry_is_answered_afresh()
      throws Exception {
    try (RunningApp busy = withoutInference(3)) {
      for (int i = 0; i < 2; i++) {
        assertThat(busy.api.send(post(busy, "/images", null, freshImage())).statusCode()).isEqualTo(202);
      }
      awaitBacklog(busy, 2);
      String key = newKey();
      byte[][] batch = {freshImage(), freshImage(), freshImage()};

      // a single upload would pass (2 waiting, bound 3); the batch's third file would be the 5th waiting
      HttpResponse<Buffer> refused = busy.api.send(post(busy, "/images", key, batch));

      assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
      assertThat(refused.getHeader("Retry-After")).isNotNull();
      assertThat(busy.count("SELECT count(*) FROM jobs")).isEqualTo(2);
      busy.vertx.deployVerticle(new InferenceVerticle(busy.app.config(), new DummyDetector(), busy.registry))
          .await(30, TimeUnit.SECONDS);
      awaitBacklog(busy, 0);
      HttpResponse<Buffer> retried = busy.api.send(post(busy, "/images", key, batch));
      assertThat(retried.statusCode()).as(retried.bodyAsString()).isEqualTo(202);
      assertThat(retried.getHeader("Idempotency-Replayed")).isNull();
      assertThat(retried.bodyAsJsonObject().getInteger("accepted")).isEqualTo(3);
    }
  }

  @Test
  void with_api_keys_on_each_clients_idempotency_keys_are_its_own() {
    String alice = "alice-key-0123456789";
    String bob = "bob-key-0123456789ab";
    try (RunningApp keyed = new RunningApp(new TestEnv(), new JsonObject().put("api-keys", alice + "," + bob))) {
      String key = newKey();
      HttpResponse<Buffer> a = keyed.api.send(keyed.api.web().post("/images").putHeader("X-API-Key", alice)
          .putHeader("Idempotency-Key", key).sendMultipartForm(MultipartForm.create()
              .binaryFileUpload("file", "a.png", Buffer.buffer(freshImage()), "image/png")));
      HttpResponse<Buffer> b = keyed.api.send(keyed.api.web().post("/images").putHeader("X-API-Key", bob)
          .putHeader("Idempotency-Key", key).sendMultipartForm(MultipartForm.create()
              .binaryFileUpload("file", "b.png", Buffer.buffer(freshImage()), "image/png")));

      assertThat(a.statusCode()).as(a.bodyAsString()).isEqualTo(202);
      assertThat(b.statusCode()).as("bob's key is not alice's: " + b.bodyAsString()).isEqualTo(202);
      assertThat(b.getHeader("Idempotency-Replayed")).isNull();
      assertThat(b.bodyAsJsonObject().getString("jobId")).isNotEqualTo(a.bodyAsJsonObject().getString("jobId"));
    }
  }
}
