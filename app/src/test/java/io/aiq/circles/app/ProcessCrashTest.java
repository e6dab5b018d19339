package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Processes die: a client that got 202 still sees its job finish, once. The service runs here as
 * real operating-system processes, killed with SIGKILL (nothing in hand is committed, no shutdown
 * hook runs) or stopped with SIGTERM (the work in hand is finished and committed).
 */
class ProcessCrashTest {
  private static final int IMAGES = 10;

  @TempDir
  Path dir;

  @Test
  void an_inference_process_killed_mid_stream_leaves_its_jobs_to_the_next_one_and_each_image_gets_one_detection_set()
      throws Exception {
    TestEnv env = new TestEnv();
    try (RunningApp front = new RunningApp(env, new JsonObject().put("roles", "gateway,ingest,queries,results"))) {
      AppProcess first = AppProcess.start(inferenceOnly(env), dir, "inference-1");
      List<String> jobs = uploadImages(front.api);

      int finishedAtKill = awaitSomeFinished(front.api, jobs);
      first.kill();
      try (AppProcess second = AppProcess.start(inferenceOnly(env), dir, "inference-2")) {
        for (String job : jobs) {
          assertThat(front.api.awaitJob(job, Duration.ofSeconds(90)).getString("status")).as(second.log())
              .isEqualTo("succeeded");
        }
      }

      assertThat(finishedAtKill).as("the kill came mid-stream").isLessThan(IMAGES);
      assertOneDetectionSetPerJob(env, jobs);
    }
  }

  @Test
  void the_whole_service_killed_with_sigkill_completes_every_accepted_job_after_a_restart() throws Exception {
    TestEnv env = new TestEnv();
    JsonObject config = env.config().put("dummy", new JsonObject().put("delay-ms", 400));
    Vertx vertx = Vertx.vertx();
    try (AppProcess first = AppProcess.start(config, dir, "all-1"); ApiClient api = new ApiClient(vertx, first.port())) {
      List<String> jobs = uploadImages(api);

      int finishedAtKill = awaitSomeFinished(api, jobs);
      first.kill();
      try (AppProcess second = AppProcess.start(config, dir, "all-2")) {
        for (String job : jobs) {
          assertThat(api.awaitJob(job, Duration.ofSeconds(90)).getString("status")).as(second.log())
              .isEqualTo("succeeded");
        }
      }

      assertThat(finishedAtKill).as("the kill came mid-stream").isLessThan(IMAGES);
      assertOneDetectionSetPerJob(env, jobs);
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void sigterm_finishes_and_commits_the_work_in_hand_so_nothing_is_done_twice() throws Exception {
    TestEnv env = new TestEnv();
    JsonObject config = env.config().put("dummy", new JsonObject().put("delay-ms", 2000))
        .put("inference", new JsonObject().put("batch-size", 1)).put("shutdown-timeout-ms", 20000);
    Vertx vertx = Vertx.vertx();
    try (AppProcess first = AppProcess.start(config, dir, "drain-1"); ApiClient api = new ApiClient(vertx, first.port())) {
      String job = api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject().getString("jobId");
      awaitStatus(api, job, "processing");

      int exit = first.terminate(Duration.ofSeconds(40));

      assertThat(exit).as("exited within the shutdown timeout:\n" + first.log()).isNotEqualTo(-1);
      assertThat(first.log()).contains("shutting down");
      try (AppProcess second = AppProcess.start(config, dir, "drain-2")) {
        assertThat(api.awaitJob(job, Duration.ofSeconds(60)).getString("status")).isEqualTo("succeeded");
        HttpResponse<Buffer> metrics = api.get("/metrics");
        assertThat(metrics.bodyAsString()).as("the restarted process ran no inference again")
            .doesNotContainPattern("aiq_inference_jobs_total\\{[^}]*outcome=\"succeeded\"[^}]*\\} [1-9]");
      }
      assertOneDetectionSetPerJob(env, List.of(job));
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static JsonObject inferenceOnly(TestEnv env) {
    return env.config().put("roles", "inference")
        .put("http", new JsonObject().put("host", "127.0.0.1").put("port", TestEnv.freePort()))
        .put("dummy", new JsonObject().put("delay-ms", 400))
        .put("inference", new JsonObject().put("batch-size", 2));
  }

  static List<String> uploadImages(ApiClient api) {
    List<String> jobs = new ArrayList<>();
    for (int i = 0; i < IMAGES; i++) {
      HttpResponse<Buffer> r = api.upload(TestImages.discs(120 + i, 90, "png", 100 + i), "d" + i + ".png", "image/png");
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(202);
      jobs.add(r.bodyAsJsonObject().getString("jobId"));
    }
    return jobs;
  }

  /** Waits until at least one job is finished; returns how many were then. */
  static int awaitSomeFinished(ApiClient api, List<String> jobs) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      int finished = 0;
      for (String job : jobs) {
        if ("succeeded".equals(api.get("/jobs/" + job).bodyAsJsonObject().getString("status"))) {
          finished++;
        }
      }
      if (finished > 0) {
        return finished;
      }
      Thread.sleep(100);
    }
    throw new AssertionError("no job finished within 60 s");
  }

  static void awaitStatus(ApiClient api, String job, String status) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (System.nanoTime() < deadline) {
      if (status.equals(api.get("/jobs/" + job).bodyAsJsonObject().getString("status"))) {
        return;
      }
      Thread.sleep(50);
    }
    throw new AssertionError("job " + job + " was never " + status);
  }

  /** Each job has exactly the dummy detector's three detections, and no image has a second job. */
  static void assertOneDetectionSetPerJob(TestEnv env, List<String> jobs) throws Exception {
    try (Connection c = PostgresFixture.connect(env.databaseUrl()); Statement s = c.createStatement()) {
      for (String job : jobs) {
        try (ResultSet rs = s.executeQuery("SELECT count(*) FROM detections WHERE job_id = '" + job + "'")) {
          rs.next();
          assertThat(rs.getLong(1)).as("detections of job " + job).isEqualTo(3);
        }
      }
      try (ResultSet rs = s.executeQuery("SELECT count(*), count(DISTINCT image_id) FROM jobs")) {
        rs.next();
        assertThat(rs.getLong(1)).as("jobs").isEqualTo(jobs.size());
        assertThat(rs.getLong(2)).as("images").isEqualTo(jobs.size());
      }
    }
  }
}
