package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.inference.DummyDetector;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The service says "not now" before its backlog grows past what it can finish: past the bound on
 * jobs waiting, uploads get 503 with Retry-After and a JSON error, while reads, health and the jobs
 * already accepted carry on; once the backlog drains, uploads are taken again. Likewise for upload
 * bytes held in memory.
 */
class AdmissionControlTest {
  private static final int MAX_QUEUED = 4;

  @Test
  void past_the_backlog_bound_uploads_get_503_with_retry_after_and_accepted_jobs_still_finish() throws Exception {
    try (RunningApp sys = new RunningApp(new TestEnv(), new JsonObject()
        // no inference yet: every accepted upload waits
        .put("roles", "gateway,ingest,queries,results")
        .put("upload", new JsonObject().put("max-queued-jobs", MAX_QUEUED).put("max-backlog-seconds", 0)))) {
      List<String> accepted = new ArrayList<>();
      HttpResponse<Buffer> refused = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      for (int i = 0; refused == null && System.nanoTime() < deadline; i++) {
        HttpResponse<Buffer> r = sys.api.upload(TestImages.discs(100 + i, 60, "png", 1000 + i), "a.png", "image/png");
        if (r.statusCode() == 202) {
          accepted.add(r.bodyAsJsonObject().getString("jobId"));
        } else {
          refused = r;
        }
        // paced, so the bound is crossed between two readings of the backlog (one a second)
        Thread.sleep(100);
      }

      assertThat(refused).as("an upload refused within 30 s").isNotNull();
      assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
      assertThat(Integer.parseInt(refused.getHeader("Retry-After"))).isBetween(1, 30);
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("unavailable");
      assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("message")).contains("capacity");
      // the bound, plus what arrives while one reading of the backlog is taken
      assertThat(accepted.size()).isGreaterThan(MAX_QUEUED).isLessThanOrEqualTo(MAX_QUEUED + 15);
      assertThat(sys.api.get("/jobs/" + accepted.get(0)).statusCode()).isEqualTo(200);
      assertThat(sys.api.get("/images?limit=5").statusCode()).isEqualTo(200);
      assertThat(sys.api.get("/health/ready").statusCode()).isEqualTo(200);
      assertThat(sys.api.get("/metrics").bodyAsString()).contains("aiq_admission_backlog_jobs")
          .contains("aiq_admission_refused_total");

      sys.vertx.deployVerticle(new InferenceVerticle(sys.app.config(), new DummyDetector(), sys.registry))
          .await(30, TimeUnit.SECONDS);
      for (String job : accepted) {
        assertThat(sys.api.awaitJob(job, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");
      }
      HttpResponse<Buffer> again = null;
      deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(15);
      while (System.nanoTime() < deadline && (again == null || again.statusCode() != 202)) {
        again = sys.api.upload(TestImages.discs(77, 55, "png", 4242), "b.png", "image/png");
        Thread.sleep(200);
      }
      assertThat(again.statusCode()).as("taken again once the backlog drained: " + again.bodyAsString()).isEqualTo(202);
    }
  }

  @Test
  void past_the_bytes_in_flight_bound_an_upload_gets_503_and_room_comes_back_when_the_held_upload_ends()
      throws Exception {
    byte[] photo = TestImages.coinPhoto();
    int held = 40_000;
    try (RunningApp sys = new RunningApp(new TestEnv(), new JsonObject()
        .put("upload", new JsonObject().put("max-bytes-in-flight", held + photo.length / 2)))) {
      try (Socket slow = new Socket("127.0.0.1", sys.app.httpPort())) {
        OutputStream out = slow.getOutputStream();
        out.write(("POST /images HTTP/1.1\r\nHost: localhost\r\nContent-Type: image/png\r\nContent-Length: " + held
            + "\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
        out.write(new byte[100]);
        out.flush();
        Thread.sleep(300);

        HttpResponse<Buffer> refused = sys.api.upload(photo, "c.jpg", "image/jpeg");

        assertThat(refused.statusCode()).as(refused.bodyAsString()).isEqualTo(503);
        assertThat(refused.getHeader("Retry-After")).isEqualTo("1");
        assertThat(refused.bodyAsJsonObject().getJsonObject("error").getString("code")).isEqualTo("unavailable");
      }
      // the held upload's connection is gone: its room is given back
      HttpResponse<Buffer> accepted = null;
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
      while (System.nanoTime() < deadline && (accepted == null || accepted.statusCode() != 202)) {
        Thread.sleep(100);
        accepted = sys.api.upload(photo, "c.jpg", "image/jpeg");
      }
      assertThat(accepted.statusCode()).as(accepted.bodyAsString()).isEqualTo(202);
      assertThat(sys.storedFiles()).isEqualTo(1);
    }
  }
}
