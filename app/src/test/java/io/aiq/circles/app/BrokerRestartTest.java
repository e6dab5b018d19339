package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.KafkaBrokerProcess;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The broker goes away and comes back: uploads during the outage get 503 with Retry-After (never a
 * 202 that is then lost), readiness goes red and green again, producers and consumers recover on
 * their own, and every accepted upload completes.
 */
class BrokerRestartTest {
  @TempDir
  Path dir;

  @Test
  void uploads_during_a_broker_outage_get_503_and_every_accepted_upload_completes_after_the_restart() throws Exception {
    try (KafkaBrokerProcess broker = KafkaBrokerProcess.start(dir.resolve("kafka"));
         RunningApp sys = new RunningApp(new TestEnv(), new JsonObject()
             .put("kafka", new JsonObject().put("bootstrap", broker.bootstrap()).put("delivery-timeout-ms", 4000)
                 .put("request-timeout-ms", 3000).put("max-block-ms", 3000))
             .put("sweeper", new JsonObject().put("interval-ms", 500).put("queued-timeout-ms", 3000)))) {
      List<String> accepted = new ArrayList<>();
      for (int i = 0; i < 3; i++) {
        accepted.add(RunningApp.acceptedJob(sys.api.upload(TestImages.discs(100 + i, 80, "png", 500 + i), "a.png", "image/png")));
      }

      broker.kill();
      byte[] duringOutage = TestImages.discs(140, 90, "png", 600);
      HttpResponse<Buffer> refused = sys.api.upload(duringOutage, "b.png", "image/png");
      assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
      assertThat(refused.getHeader("Retry-After")).isNotBlank();
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("unavailable");
      sys.awaitReadiness(503);

      broker.restart();
      sys.awaitReadiness(200);
      for (int i = 0; i < 2; i++) {
        accepted.add(RunningApp.acceptedJob(uploadAsAClientWould(sys, TestImages.discs(100 + i, 120, "png", 700 + i))));
      }
      // the client retries the refused upload, as Retry-After told it to: its saved job is answered
      HttpResponse<Buffer> retried = uploadAsAClientWould(sys, duringOutage);
      assertThat(retried.statusCode()).as(retried.bodyAsString()).isIn(202, 409);
      accepted.add(retried.bodyAsJsonObject().getString("jobId"));

      for (String job : accepted) {
        JsonObject finished = sys.api.awaitJob(job, Duration.ofSeconds(90));
        assertThat(finished.getString("status")).as(finished.encode()).isEqualTo("succeeded");
      }
      ProcessCrashTest.assertOneDetectionSetPerJob(sys.env, accepted);
    }
  }

  /**
   * Uploads, and on 503 tries again after Retry-After, at most 3 times: what the API tells a client
   * to do. Just after a broker restart an event may still join a producer batch that was created
   * while the broker was away and expire with it; the client is told so, and its retry goes through.
   */
  static HttpResponse<Buffer> uploadAsAClientWould(RunningApp sys, byte[] image) throws InterruptedException {
    HttpResponse<Buffer> r = sys.api.upload(image, "c.png", "image/png");
    for (int attempt = 1; attempt < 3 && r.statusCode() == 503; attempt++) {
      assertThat(r.getHeader("Retry-After")).isNotBlank();
      Thread.sleep(Math.min(5, Long.parseLong(r.getHeader("Retry-After"))) * 1000L);
      r = sys.api.upload(image, "c.png", "image/png");
    }
    return r;
  }
}
