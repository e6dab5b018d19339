package io.aiq.circles.app;

import static io.aiq.circles.app.ProcessCrashTest.assertOneDetectionSetPerJob;
import static io.aiq.circles.app.ProcessCrashTest.awaitSomeFinished;
import static io.aiq.circles.app.ProcessCrashTest.uploadImages;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * {@link ProcessCrashTest} against the chart's default layout: the API process, inference and the results
 * writer as three operating-system processes without a cluster. Any one of them, or all, killed with
 * SIGKILL mid-stream: a client that got 202 still sees its job finish, once.
 */
class SplitLayoutProcessCrashTest {
  private static final int IMAGES = 10;
  /** inference takes a while per image, so a kill lands while work is in flight */
  private static final JsonObject SLOW = new JsonObject().put("dummy", new JsonObject().put("delay-ms", 400))
      .put("inference", new JsonObject().put("batch-size", 2));

  @Test
  void an_inference_process_killed_mid_stream_leaves_its_jobs_to_the_next_one() throws Exception {
    TestEnv env = new TestEnv();
    try (SplitLayout layout = SplitLayout.start(env, SLOW)) {
      List<String> jobs = uploadImages(layout.client);

      int finishedAtKill = awaitSomeFinished(layout.client, jobs);
      layout.inference.kill();
      layout.inference = layout.startInference();

      assertAllSucceed(layout, jobs);
      assertThat(finishedAtKill).as("the kill came mid-stream").isLessThan(IMAGES);
      assertOneDetectionSetPerJob(env, jobs);
    }
  }

  @Test
  void a_results_writer_killed_mid_stream_leaves_its_records_to_the_next_one_and_nothing_is_written_twice()
      throws Exception {
    TestEnv env = new TestEnv();
    try (SplitLayout layout = SplitLayout.start(env, SLOW)) {
      List<String> jobs = uploadImages(layout.client);

      int finishedAtKill = awaitSomeFinished(layout.client, jobs);
      layout.results.kill();
      // the API still answers (its queries read PostgreSQL, not the writer) while no one writes results
      assertThat(layout.client.get("/jobs/" + jobs.get(0)).statusCode()).isEqualTo(200);
      layout.results = layout.startResults();

      assertAllSucceed(layout, jobs);
      assertThat(finishedAtKill).as("the kill came mid-stream").isLessThan(IMAGES);
      assertOneDetectionSetPerJob(env, jobs);
    }
  }

  @Test
  void all_three_processes_killed_with_sigkill_complete_every_accepted_job_after_a_restart() throws Exception {
    TestEnv env = new TestEnv();
    try (SplitLayout layout = SplitLayout.start(env, SLOW)) {
      List<String> jobs = uploadImages(layout.client);

      int finishedAtKill = awaitSomeFinished(layout.client, jobs);
      layout.api.kill();
      layout.inference.kill();
      layout.results.kill();
      layout.results = layout.startResults();
      layout.inference = layout.startInference();
      layout.api = layout.startApi();

      assertAllSucceed(layout, jobs);
      assertThat(finishedAtKill).as("the kill came mid-stream").isLessThan(IMAGES);
      assertOneDetectionSetPerJob(env, jobs);
    }
  }

  private static void assertAllSucceed(SplitLayout layout, List<String> jobs) {
    for (String job : jobs) {
      assertThat(layout.client.awaitJob(job, Duration.ofSeconds(90)).getString("status")).as(layout.logs())
          .isEqualTo("succeeded");
    }
  }
}
