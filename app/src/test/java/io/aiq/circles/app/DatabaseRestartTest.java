package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.PostgresProcess;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL goes away and comes back: uploads meanwhile get 503 with Retry-After, readiness goes
 * red and green again, results that arrive meanwhile wait in Kafka (uncommitted) and are written
 * after the restart, and every accepted upload completes once.
 */
class DatabaseRestartTest {

  @Test
  void with_postgresql_stopped_uploads_get_503_and_every_accepted_job_completes_after_the_restart() throws Exception {
    Assumptions.assumeTrue(PostgresProcess.available(),
        "needs the PostgreSQL server binaries (initdb, pg_ctl) to run a server of its own");
    try (PostgresProcess pg = PostgresProcess.start();
         RunningApp sys = new RunningApp(new TestEnv(pg.url()), new JsonObject()
             .put("dummy", new JsonObject().put("delay-ms", 300))
             .put("database", new JsonObject().put("connect-timeout-ms", 2000)))) {
      List<String> accepted = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        accepted.add(RunningApp.acceptedJob(sys.api.upload(TestImages.discs(100 + i, 80, "png", 800 + i), "a.png", "image/png")));
      }

      pg.stop();
      HttpResponse<Buffer> refused = sys.api.upload(TestImages.discs(150, 90, "png", 900), "b.png", "image/png");
      assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
      assertThat(refused.getHeader("Retry-After")).isNotBlank();
      sys.awaitReadiness(503);

      pg.startAgain();
      sys.awaitReadiness(200);
      for (int i = 0; i < 2; i++) {
        accepted.add(RunningApp.acceptedJob(sys.api.upload(TestImages.discs(100 + i, 130, "png", 950 + i), "c.png", "image/png")));
      }

      for (String job : accepted) {
        assertThat(sys.api.awaitJob(job, Duration.ofSeconds(90)).getString("status")).isEqualTo("succeeded");
      }
      ProcessCrashTest.assertOneDetectionSetPerJob(sys.env, accepted);
    }
  }
}
