package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Consumers come and go: while uploads flow, a second inference consumer of the group is stopped
 * and started again and again, so partitions move between them mid-stream. No job is lost, and
 * any record handled twice leaves one set of detections.
 */
class RebalanceTest {
  private static final int IMAGES = 24;

  @Test
  void an_inference_consumer_leaving_and_joining_during_load_loses_no_job_and_doubles_no_detection() throws Exception {
    TestEnv env = new TestEnv();
    try (RunningApp sys = new RunningApp(env, new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("inference", new JsonObject().put("batch-size", 2)))) {
      sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(100), sys.registry))
          .await(30, TimeUnit.SECONDS);
      List<String> jobs = new CopyOnWriteArrayList<>();
      CompletableFuture<Void> uploads = CompletableFuture.runAsync(() -> {
        for (int i = 0; i < IMAGES; i++) {
          HttpResponse<Buffer> r = sys.api.upload(TestImages.discs(100 + i, 80, "png", 300 + i), "d.png", "image/png");
          assertThat(r.statusCode()).isEqualTo(202);
          jobs.add(r.bodyAsJsonObject().getString("jobId"));
          sleep(100);
        }
      });

      int flaps = 0;
      while (!uploads.isDone() || flaps < 3) {
        String flapping = sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(100),
            sys.registry)).await(30, TimeUnit.SECONDS);
        sleep(700);
        sys.vertx.undeploy(flapping).await(30, TimeUnit.SECONDS);
        flaps++;
      }
      uploads.get(60, TimeUnit.SECONDS);

      for (String job : jobs) {
        assertThat(sys.api.awaitJob(job, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
      }
      assertThat(jobs).hasSize(IMAGES);
      ProcessCrashTest.assertOneDetectionSetPerJob(env, jobs);
    }
  }

  private static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }
}
