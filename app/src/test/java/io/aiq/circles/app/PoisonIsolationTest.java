package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.images.ImageDecoder;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * One image that cannot be processed fails alone: its job ends failed with the reason and its record
 * goes to the dead-letter topic, while its batchmates (and every upload after it) succeed. The
 * images are queued with no inference running, so they meet in the same micro-batches when the
 * consumer starts.
 */
class PoisonIsolationTest {
  private RunningApp sys;

  @BeforeEach
  void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("inference", new JsonObject().put("batch-wait-ms", 200)));
  }

  @AfterEach
  void stop() {
    sys.close();
  }

  private List<String> queueImages(int n, int seed) {
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(RunningApp.acceptedJob(sys.api.upload(TestImages.discs(90 + i, 70, "png", seed + i), "q.png", "image/png")));
    }
    return jobs;
  }

  @Test
  void a_missing_blob_fails_its_job_as_image_missing_and_its_batchmates_succeed() throws Exception {
    List<String> jobs = queueImages(6, 300);
    String gone = jobs.get(2);
    Files.delete(sys.env.storeRoot().resolve(storageRef(gone)));

    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(), sys.registry))
        .await(30, TimeUnit.SECONDS);

    for (String job : jobs) {
      JsonObject done = sys.api.awaitJob(job, Duration.ofSeconds(30));
      if (job.equals(gone)) {
        assertThat(done.getString("status")).isEqualTo("failed");
        assertThat(done.getJsonObject("error").getString("code")).isEqualTo("image_missing");
      } else {
        assertThat(done.getString("status")).as(done.encode()).isEqualTo("succeeded");
      }
    }
    assertThat(TopicProbe.await(sys.app.config().kafka().topics().deadLetter(), 1,
        r -> "image_missing".equals(TopicProbe.header(r, CloudEventHeaders.DLQ_REASON)), Duration.ofSeconds(30)))
        .hasSize(1);
    assertFreshUploadSucceeds();
  }

  @Test
  void a_decoder_that_runs_out_of_memory_fails_that_image_as_corrupt_and_its_batchmates_succeed() throws Exception {
    List<String> jobs = queueImages(5, 400);
    // the 187-byte BMP of issue 12 made ImageIO ask for a 2 GiB array; here the decoder throws the
    // same Error for images of one width, whatever the bytes
    Detector allocatesFromTheHeader = new Dummy() {
      @Override
      public BufferedImage decode(byte[] bytes) {
        BufferedImage img = ImageDecoder.decode(bytes);
        if (img.getWidth() == 92) {
          throw new OutOfMemoryError("Requested array size exceeds VM limit");
        }
        return img;
      }
    };

    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), allocatesFromTheHeader, sys.registry))
        .await(30, TimeUnit.SECONDS);

    for (int i = 0; i < jobs.size(); i++) {
      JsonObject done = sys.api.awaitJob(jobs.get(i), Duration.ofSeconds(30));
      if (i == 2) {
        assertThat(done.getString("status")).isEqualTo("failed");
        assertThat(done.getJsonObject("error").getString("code")).isEqualTo("corrupt_image");
        assertThat(done.getJsonObject("error").getString("message")).doesNotContain("Requested array size");
      } else {
        assertThat(done.getString("status")).as(done.encode()).isEqualTo("succeeded");
      }
    }
    assertFreshUploadSucceeds();
  }

  @Test
  void an_image_the_model_fails_on_fails_alone_when_its_batchmates_do_not() throws Exception {
    List<String> jobs = queueImages(4, 500);
    Detector failsOnOneWidth = new Dummy() {
      @Override
      public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
        if (images.stream().anyMatch(img -> img.getWidth() == 91)) {
          throw new IllegalStateException("the model cannot take this image");
        }
        return super.detect(images);
      }
    };

    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), failsOnOneWidth, sys.registry))
        .await(30, TimeUnit.SECONDS);

    for (int i = 0; i < jobs.size(); i++) {
      JsonObject done = sys.api.awaitJob(jobs.get(i), Duration.ofSeconds(30));
      assertThat(done.getString("status")).as(done.encode()).isEqualTo(i == 1 ? "failed" : "succeeded");
    }
  }

  @Test
  void an_image_that_takes_the_inference_process_down_every_time_ends_failed_and_its_batchmates_succeed()
      throws Exception {
    List<String> jobs = queueImages(4, 600);
    java.util.concurrent.atomic.AtomicReference<InferenceVerticle> running = new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicInteger crashes = new java.util.concurrent.atomic.AtomicInteger();
    // as a native fault in the model would: the process is gone before anything of the batch is committed
    Detector crashesOnOneWidth = new Dummy() {
      @Override
      public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
        if (images.stream().anyMatch(img -> img.getWidth() == 92)) {
          crashes.incrementAndGet();
          running.get().abort().toCompletionStage().toCompletableFuture().get(30, TimeUnit.SECONDS);
          throw new IllegalStateException("the process is gone");
        }
        return super.detect(images);
      }
    };
    int attempts = sys.app.config().kafka().maxRecordAttempts();

    // each "restart" deploys a fresh inference consumer in the same group, as Kubernetes would restart the pod
    for (int restarts = 0; restarts <= attempts + 2 && !finished(jobs.get(2)); restarts++) {
      int before = crashes.get();
      InferenceVerticle inference = new InferenceVerticle(sys.app.config(), crashesOnOneWidth, sys.registry);
      running.set(inference);
      String id = sys.vertx.deployVerticle(inference).await(30, TimeUnit.SECONDS);
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (crashes.get() == before && !finished(jobs.get(2)) && System.nanoTime() < deadline) {
        Thread.sleep(50);
      }
      if (!finished(jobs.get(2))) {
        sys.vertx.undeploy(id).await(30, TimeUnit.SECONDS);
      }
    }

    for (int i = 0; i < jobs.size(); i++) {
      JsonObject done = sys.api.awaitJob(jobs.get(i), Duration.ofSeconds(30));
      if (i == 2) {
        assertThat(done.getString("status")).isEqualTo("failed");
        assertThat(done.getJsonObject("error").getString("code")).isEqualTo("processing_failed");
      } else {
        assertThat(done.getString("status")).as(done.encode()).isEqualTo("succeeded");
      }
    }
    assertThat(crashes.get()).as("the batch once, then the image alone once per attempt").isEqualTo(1 + attempts);
    assertThat(TopicProbe.await(sys.app.config().kafka().topics().deadLetter(), 1,
        r -> "processing_failed".equals(TopicProbe.header(r, CloudEventHeaders.DLQ_REASON)), Duration.ofSeconds(30)))
        .hasSize(1);
    assertFreshUploadSucceeds();
  }

  private boolean finished(String job) {
    String status = sys.api.get("/jobs/" + job).bodyAsJsonObject().getString("status");
    return "failed".equals(status) || "succeeded".equals(status);
  }

  /** The dummy detector, open for a test to override one step. */
  static class Dummy implements Detector {
    private final DummyDetector delegate = new DummyDetector();

    @Override
    public String modelName() {
      return delegate.modelName();
    }

    @Override
    public String modelVersion() {
      return delegate.modelVersion();
    }

    @Override
    public boolean ready() {
      return true;
    }

    @Override
    public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
      return delegate.detect(images);
    }
  }

  private void assertFreshUploadSucceeds() {
    String job = RunningApp.acceptedJob(sys.api.upload(TestImages.discs(333, 111, "png", 999), "f.png", "image/png"));
    assertThat(sys.api.awaitJob(job, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");
  }

  private String storageRef(String jobId) throws Exception {
    try (Connection c = PostgresFixture.connect(sys.env.databaseUrl());
         ResultSet rs = c.createStatement().executeQuery(
             "SELECT i.storage_ref FROM jobs j JOIN images i USING (image_id) WHERE j.job_id = '" + jobId + "'")) {
      rs.next();
      return rs.getString(1);
    }
  }
}
