package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.S3ProxyFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The pipeline on {@code store.type: s3}: ingest writes each upload to a real S3 server (S3Proxy, in
 * this JVM) and inference reads it from there; nothing goes through a local folder. Deleting an image
 * removes its object. A blob gone from the bucket fails its job as a deleted file does; a store that
 * is down is an outage that jobs wait out, never a reason to fail them.
 */
class S3StorePipelineTest {
  private static final String PREFIX = "aiq/";
  private S3ProxyFixture s3;
  private String bucket;
  private RunningApp sys;

  @BeforeEach
  void startS3() {
    s3 = S3ProxyFixture.start();
    bucket = s3.createBucket("aiq-" + UUID.randomUUID().toString().substring(0, 8));
  }

  @AfterEach
  void stop() {
    try {
      if (sys != null) {
        sys.close();
      }
    } finally {
      s3.close();
    }
  }

  /** The app on the bucket; {@code roles} null: every role. */
  private RunningApp start(String roles) {
    JsonObject overrides = new JsonObject().put("store", s3.storeConfig(bucket, PREFIX))
        .put("inference", new JsonObject().put("retry-backoff-max-ms", 1000));
    if (roles != null) {
      overrides.put("roles", roles);
    }
    sys = new RunningApp(new TestEnv(), overrides);
    return sys;
  }

  private static JsonObject readinessCheck(RunningApp sys, String id) {
    JsonArray checks = sys.api.get("/health/ready").bodyAsJsonObject().getJsonArray("checks");
    for (int i = 0; i < checks.size(); i++) {
      if (id.equals(checks.getJsonObject(i).getString("id"))) {
        return checks.getJsonObject(i);
      }
    }
    return null;
  }

  @Test
  void an_upload_is_stored_in_the_bucket_under_the_prefix_and_inference_reads_it_from_there() {
    start(null);
    byte[] photo = TestImages.coinPhoto();

    JsonObject accepted = sys.api.upload(photo, "coins.jpg", "image/jpeg").bodyAsJsonObject();
    JsonObject job = sys.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(60));

    assertThat(job.getString("status")).as(job.encode()).isEqualTo("succeeded");
    assertThat(job.getInteger("objectCount")).isEqualTo(3);
    assertThat(s3.object(bucket, PREFIX + ImageStore.refFor(accepted.getString("imageId"), "jpg"))).isEqualTo(photo);
    assertThat(sys.storedFiles()).as("files under the filesystem store's root").isZero();
  }

  @Test
  void deleting_an_image_removes_its_object_from_the_bucket() {
    start(null);
    JsonObject accepted = sys.api.upload(TestImages.discs(140, 90, "png", 600), "d.png", "image/png").bodyAsJsonObject();
    String imageId = accepted.getString("imageId");
    assertThat(sys.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(60)).getString("status"))
        .isEqualTo("succeeded");
    String key = PREFIX + ImageStore.refFor(imageId, "png");
    assertThat(s3.object(bucket, key)).isNotNull();

    var deleted = sys.api.request(io.vertx.core.http.HttpMethod.DELETE, "/images/" + imageId);

    assertThat(deleted.statusCode()).as(deleted.bodyAsString()).isEqualTo(204);
    assertThat(s3.object(bucket, key)).isNull();
    assertThat(sys.api.get("/images/" + imageId).statusCode()).isEqualTo(404);
  }

  @Test
  void readiness_includes_the_bucket() throws Exception {
    start(null);
    sys.awaitReadiness(200);

    JsonObject store = readinessCheck(sys, "store");

    assertThat(store).isNotNull();
    assertThat(store.getString("status")).isEqualTo("UP");
    assertThat(store.getJsonObject("data").getString("store")).contains(bucket);
  }

  @Test
  void a_blob_gone_from_the_bucket_fails_its_job_as_image_missing_and_the_others_succeed() throws Exception {
    start("gateway,ingest,queries,results");
    List<String> jobs = new ArrayList<>();
    List<String> images = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      var upload = sys.api.upload(TestImages.discs(90 + i, 70, "png", 700 + i), "q.png", "image/png");
      assertThat(upload.statusCode()).as(upload.bodyAsString()).isEqualTo(202);
      JsonObject accepted = upload.bodyAsJsonObject();
      jobs.add(accepted.getString("jobId"));
      images.add(accepted.getString("imageId"));
    }
    s3.deleteObject(bucket, PREFIX + ImageStore.refFor(images.get(1), "png"));

    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(), sys.registry))
        .await(30, TimeUnit.SECONDS);

    for (int i = 0; i < jobs.size(); i++) {
      JsonObject done = sys.api.awaitJob(jobs.get(i), Duration.ofSeconds(60));
      if (i == 1) {
        assertThat(done.getString("status")).isEqualTo("failed");
        assertThat(done.getJsonObject("error").getString("code")).isEqualTo("image_missing");
      } else {
        assertThat(done.getString("status")).as(done.encode()).isEqualTo("succeeded");
      }
    }
  }

  @Test
  void while_the_store_is_down_uploads_get_503_and_queued_jobs_wait_then_succeed_once_it_is_back() throws Exception {
    start("gateway,ingest,queries,results");
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      jobs.add(RunningApp.acceptedJob(sys.api.upload(TestImages.discs(100 + i, 80, "png", 800 + i), "w.png",
          "image/png")));
    }
    s3.stop();

    assertThat(sys.api.upload(TestImages.discs(120, 80, "png", 899), "x.png", "image/png").statusCode())
        .isEqualTo(503);
    sys.awaitReadiness(503);
    assertThat(readinessCheck(sys, "store").getString("status")).isEqualTo("DOWN");
    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(), sys.registry))
        .await(30, TimeUnit.SECONDS);
    // inference has taken the jobs (processing) and cannot read their images: it must wait, not fail them
    for (String job : jobs) {
      awaitStatus(job, "processing");
    }
    s3.restart();

    for (String job : jobs) {
      JsonObject done = sys.api.awaitJob(job, Duration.ofSeconds(60));
      assertThat(done.getString("status")).as(done.encode()).isEqualTo("succeeded");
    }
    sys.awaitReadiness(200);
  }

  private void awaitStatus(String jobId, String status) throws InterruptedException {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    String last = null;
    while (System.nanoTime() < deadline) {
      last = sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getString("status");
      if (status.equals(last)) {
        return;
      }
      assertThat(last).as("job " + jobId).isNotIn("failed", "succeeded");
      Thread.sleep(200);
    }
    throw new AssertionError("job " + jobId + " stayed " + last + ", expected " + status);
  }
}
