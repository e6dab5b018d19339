package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.events.JobCancelled;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.UUID;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The ingest role's sweeps and cancelled jobs: the lost-job sweeper, which republishes a job queued
 * too long, never republishes a cancelled one; and a cancellation whose event the broker never
 * acknowledged (a crash, an outage: its pending record is left) is published by the cancellation
 * sweep, so the event is never lost silently.
 *
 * <p>No inference runs, so jobs stay queued; the sweeper takes a job queued for 300 ms as lost.
 */
class CancellationSweepTest {
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("rate-limit", new JsonObject().put("requests-per-second", 0))
        .put("sweeper", new JsonObject().put("interval-ms", 300).put("queued-timeout-ms", 300)
            .put("max-submissions", 1000)));
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  private static String queuedJob(int seed) {
    return RunningApp.acceptedJob(sys.api.upload(TestImages.discs(64, 48, "png", seed), "c.png", "image/png"));
  }

  private static int submissions(String jobId) {
    return sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getInteger("submissions");
  }

  @Test
  void the_lost_job_sweeper_republishes_a_queued_job_but_never_a_cancelled_one() throws Exception {
    String cancelled = queuedJob(3101);
    assertThat(sys.api.request(HttpMethod.DELETE, "/jobs/" + cancelled).statusCode()).isEqualTo(202);
    String left = queuedJob(3102);

    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (submissions(left) < 3 && System.nanoTime() < deadline) {
      Thread.sleep(100);
    }

    assertThat(submissions(left)).as("the sweeper ran meanwhile").isGreaterThanOrEqualTo(3);
    assertThat(submissions(cancelled)).isEqualTo(1);
    assertThat(sys.api.get("/jobs/" + cancelled).bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
  }

  @Test
  void a_cancellation_whose_event_was_never_acknowledged_is_published_by_the_sweep() throws Exception {
    String jobId = queuedJob(3201);
    String imageId = sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getString("imageId");
    // what a cancellation interrupted before its event was acknowledged leaves behind
    try (Connection c = PostgresFixture.connect(sys.env.databaseUrl())) {
      try (PreparedStatement s = c.prepareStatement(
          "UPDATE jobs SET status = 'cancelled', finished_at = now() - interval '1 minute' WHERE job_id = ?")) {
        s.setObject(1, UUID.fromString(jobId));
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("INSERT INTO job_cancellations (job_id, image_id, cancelled_at)"
          + " VALUES (?, ?, now() - interval '1 minute')")) {
        s.setObject(1, UUID.fromString(jobId));
        s.setString(2, imageId);
        s.executeUpdate();
      }
    }

    ConsumerRecord<String, String> event = TopicProbe.await(sys.app.config().kafka().topics().jobsCancelled(), 1,
        r -> imageId.equals(r.key()), Duration.ofSeconds(30)).get(0);

    assertThat(JobCancelled.fromJson(Buffer.buffer(event.value())).jobId()).isEqualTo(jobId);
    long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
    while (sys.count("SELECT count(*) FROM job_cancellations") > 0 && System.nanoTime() < deadline) {
      Thread.sleep(50);
    }
    assertThat(sys.count("SELECT count(*) FROM job_cancellations")).as("nothing left to publish").isZero();
  }
}
