package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.json.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.time.Duration;
import java.util.HexFormat;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Jobs whose event was lost are republished; jobs nobody processes end failed, never silently queued. */
class SweeperTest {
  private static final JsonObject FAST_SWEEPS = new JsonObject().put("sweeper", new JsonObject()
      .put("interval-ms", 300).put("queued-timeout-ms", 700).put("processing-timeout-ms", 700).put("max-submissions", 2));

  @Test
  void a_job_saved_but_never_published_is_republished_and_completes() throws Exception {
    // room for a republish or two while the inference consumers join their group (a rebalance can
    // outlast the 700-ms timeout on a loaded machine): what is asserted is that it completes at all
    JsonObject patientSweeps = FAST_SWEEPS.copy();
    patientSweeps.getJsonObject("sweeper").put("max-submissions", 5);
    try (RunningApp sys = new RunningApp(new TestEnv(), patientSweeps)) {
      // what a crash between the database commit and the broker's ack leaves: a queued job, no event
      byte[] bytes = TestImages.discs(222, 111, "png", 71);
      String imageId = HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
      String ref = ImageStore.refFor(imageId, "png");
      Path blob = sys.env.storeRoot().resolve(ref);
      Files.createDirectories(blob.getParent());
      Files.write(blob, bytes);
      UUID jobId = UUID.randomUUID();
      try (Connection c = PostgresFixture.connect(sys.env.databaseUrl())) {
        PreparedStatement image = c.prepareStatement("INSERT INTO images (image_id, storage_ref, content_type, format,"
            + " width, height, size_bytes) VALUES (?, ?, 'image/png', 'png', 222, 111, ?)");
        image.setString(1, imageId);
        image.setString(2, ref);
        image.setLong(3, bytes.length);
        image.executeUpdate();
        PreparedStatement job = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status) VALUES (?, ?, 'queued')");
        job.setObject(1, jobId);
        job.setString(2, imageId);
        job.executeUpdate();
      }

      JsonObject done = sys.api.awaitJob(jobId.toString(), Duration.ofSeconds(30));

      assertThat(done.getString("status")).isEqualTo("succeeded");
      assertThat(done.getInteger("submissions")).isGreaterThanOrEqualTo(2);
      assertThat(done.getInteger("objectCount")).isEqualTo(3);
    }
  }

  @Test
  void a_job_no_consumer_takes_is_republished_then_failed_with_not_processed() {
    JsonObject noInference = FAST_SWEEPS.copy().put("roles", "gateway,ingest,queries,results");
    try (RunningApp sys = new RunningApp(new TestEnv(), noInference)) {
      JsonObject accepted = sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject();
      String jobId = accepted.getString("jobId");

      JsonObject failed = sys.api.awaitJob(jobId, Duration.ofSeconds(30));

      assertThat(failed.getString("status")).isEqualTo("failed");
      assertThat(failed.getJsonObject("error").getString("code")).isEqualTo("not_processed");
      assertThat(failed.getInteger("submissions")).isEqualTo(2);
      // max-submissions 2: the original event and one republished, both for this job, keyed by its image
      assertThat(TopicProbe.await(sys.app.config().kafka().topics().imagesSubmitted(), 2,
          r -> r.value().contains(jobId) && accepted.getString("imageId").equals(r.key()), Duration.ofSeconds(10)))
          .hasSize(2);
    }
  }
}
