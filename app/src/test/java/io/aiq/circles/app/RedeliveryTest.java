package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * At-least-once delivery, exactly-once effect: an inference consumer that dies with a batch in hand,
 * before committing, leaves its records to the next consumer of the group, and the job still ends
 * once, with one set of detections.
 */
class RedeliveryTest {
  private RunningApp sys;

  @BeforeEach
  void start() {
    // every role but inference: the test deploys the inference consumers itself
    sys = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results"));
  }

  @AfterEach
  void stop() throws Exception {
    sys.close();
  }

  @Test
  void a_job_whose_inference_consumer_dies_before_committing_completes_once_on_the_next_consumer() throws Exception {
    String jobId = sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject().getString("jobId");
    HangingDetector hanging = new HangingDetector();
    InferenceVerticle first = new InferenceVerticle(sys.app.config(), hanging, sys.registry);
    sys.vertx.deployVerticle(first).await(30, TimeUnit.SECONDS);
    assertThat(hanging.entered.await(30, TimeUnit.SECONDS)).as("the first consumer took the job").isTrue();

    first.abort().await(30, TimeUnit.SECONDS);
    CountingDetector counting = new CountingDetector();
    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), counting, sys.registry)).await(30, TimeUnit.SECONDS);
    JsonObject job = sys.api.awaitJob(jobId, Duration.ofSeconds(60));
    hanging.release.countDown();

    assertThat(job.getString("status")).isEqualTo("succeeded");
    assertThat(counting.images.get()).as("the second consumer received the uncommitted record").isEqualTo(1);
    assertThat(sys.count("SELECT count(*) FROM detections WHERE job_id = '" + jobId + "'")).isEqualTo(3);
    assertThat(sys.count("SELECT count(*) FROM jobs")).isEqualTo(1);
  }

  @Test
  void a_consumer_stopped_gracefully_commits_its_work_so_its_successor_redoes_nothing() throws Exception {
    CountingDetector first = new CountingDetector();
    String id1 = sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), first, sys.registry))
        .await(30, TimeUnit.SECONDS);
    String jobId = sys.api.upload(TestImages.otherCoinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject().getString("jobId");
    assertThat(sys.api.awaitJob(jobId, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");

    sys.vertx.undeploy(id1).await(30, TimeUnit.SECONDS);
    CountingDetector second = new CountingDetector();
    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), second, sys.registry)).await(30, TimeUnit.SECONDS);
    String next = sys.api.upload(TestImages.discs(120, 90, "png", 5), "n.png", "image/png").bodyAsJsonObject().getString("jobId");
    assertThat(sys.api.awaitJob(next, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");

    assertThat(first.images.get()).isEqualTo(1);
    assertThat(second.images.get()).as("only the new upload, not the committed one again").isEqualTo(1);
  }

  @Test
  void a_model_that_keeps_failing_fails_the_job_and_dead_letters_its_record() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    Detector broken = new CountingDetector() {
      @Override
      public List<List<Detection>> detect(List<BufferedImage> batch) {
        attempts.incrementAndGet();
        throw new IllegalStateException("out of model");
      }
    };
    sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), broken, sys.registry)).await(30, TimeUnit.SECONDS);
    JsonObject accepted = sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject();

    JsonObject job = sys.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(30));

    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("model_error");
    assertThat(attempts.get()).isEqualTo(sys.app.config().inference().maxAttempts());
    var dead = io.aiq.circles.testing.TopicProbe.await(sys.app.config().kafka().topics().deadLetter(), 1,
        r -> r.value().contains(accepted.getString("jobId")), Duration.ofSeconds(30)).get(0);
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_reason")).isEqualTo("model_error");
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_attempts"))
        .isEqualTo(String.valueOf(sys.app.config().inference().maxAttempts()));
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_topic"))
        .isEqualTo(sys.app.config().kafka().topics().imagesSubmitted());
  }

  /** Takes a batch and never gives it back, until released: a consumer that hangs, then dies. */
  static final class HangingDetector implements Detector {
    final CountDownLatch entered = new CountDownLatch(1);
    final CountDownLatch release = new CountDownLatch(1);

    @Override
    public String modelName() {
      return "hanging";
    }

    @Override
    public String modelVersion() {
      return "1";
    }

    @Override
    public boolean ready() {
      return true;
    }

    @Override
    public List<List<Detection>> detect(List<BufferedImage> images) throws Exception {
      entered.countDown();
      release.await(60, TimeUnit.SECONDS);
      throw new IllegalStateException("this consumer was declared dead");
    }
  }

  static class CountingDetector extends PoisonIsolationTest.Dummy {
    final AtomicInteger images = new AtomicInteger();

    @Override
    public List<List<Detection>> detect(List<BufferedImage> batch) throws Exception {
      images.addAndGet(batch.size());
      return super.detect(batch);
    }
  }
}
