package io.aiq.circles.ingest;

import static io.aiq.circles.ingest.IngestTestbed.again;
import static io.aiq.circles.ingest.IngestTestbed.failureOf;
import static io.aiq.circles.ingest.IngestTestbed.newImage;
import static io.aiq.circles.ingest.IngestTestbed.recordsOfJob;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.messages.Submission;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Ingest with the broker out of reach (its bootstrap address a closed port): an upload whose event
 * the broker did not acknowledge is answered {@code 503 unavailable}, never accepted; its job row
 * stays queued for the sweeper, and neither the refused upload nor the sweeper's refused republishes
 * count towards {@code sweeper.max-submissions}. Each test deploys its own ingest verticle, whose
 * producer has never reached the broker.
 */
class IngestBrokerOutageTest {
  /** The producer gives up this soon: max-block-ms 500 (metadata), delivery 1.5 s. */
  private static final JsonObject SHORT_KAFKA_TIMEOUTS = new JsonObject().put("max-block-ms", 500)
      .put("request-timeout-ms", 1000).put("delivery-timeout-ms", 1500);

  private static IngestTestbed bed;
  private BrokerPort broker;
  private String deployment;

  @BeforeAll
  static void start() throws Exception {
    // the topics exist on the real broker: only this role cannot reach it
    bed = new IngestTestbed(true);
  }

  @AfterAll
  static void stop() throws Exception {
    bed.close();
  }

  @AfterEach
  void undeploy() throws Exception {
    if (deployment != null) {
      bed.undeploy(deployment);
    }
    broker.close();
  }

  private AppConfig deployBehindClosedPort(JsonObject sweeper) throws Exception {
    broker = new BrokerPort();
    AppConfig config = bed.config(new JsonObject()
        .put("kafka", SHORT_KAFKA_TIMEOUTS.copy().put("bootstrap", broker.bootstrap()))
        .put("sweeper", sweeper));
    deployment = bed.deploy(config);
    return config;
  }

  @Test
  void an_upload_the_broker_does_not_acknowledge_is_refused_503_and_its_job_stays_queued_uncounted() throws Exception {
    deployBehindClosedPort(new JsonObject().put("enabled", false));
    SubmitImage image = newImage(false);
    long t0 = System.nanoTime();

    ErrorCode.ApiFailure refused = failureOf(bed.send(image));

    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(10));
    assertThat(refused.code()).isEqualTo(ErrorCode.UNAVAILABLE);
    assertThat(refused.code().status()).isEqualTo(503);
    List<Map<String, Object>> jobs = bed.jobsOf(image.imageId());
    assertThat(jobs).hasSize(1);
    assertThat(refused.message()).contains(jobs.get(0).get("job_id").toString()).contains("retried");
    // kept for the sweeper, and the refused submission not counted against its attempts
    assertThat(jobs.get(0)).containsEntry("status", "queued").containsEntry("submissions", 0);
    assertThat(bed.env.storeRoot().resolve(ImageStore.refFor(image.imageId(), "png"))).exists();
  }

  @Test
  void the_same_bytes_uploaded_again_during_the_outage_are_answered_with_the_saved_job() throws Exception {
    deployBehindClosedPort(new JsonObject().put("enabled", false));
    SubmitImage image = newImage(false);
    failureOf(bed.send(image));
    UUID saved = (UUID) bed.jobsOf(image.imageId()).get(0).get("job_id");

    Submission again = bed.submit(again(image, false));

    assertThat(again.newJob()).isFalse();
    assertThat(again.jobId()).isEqualTo(saved.toString());
    assertThat(again.status()).isEqualTo(JobStatus.QUEUED);
    assertThat(bed.jobsOf(image.imageId())).hasSize(1);
  }

  @Test
  void republishes_the_broker_refused_do_not_count_so_the_job_still_reaches_the_broker_once_it_is_back()
      throws Exception {
    // one submission allowed: a refused attempt that counted would give the job up unpublished
    AppConfig config = deployBehindClosedPort(new JsonObject().put("enabled", true).put("interval-ms", 100)
        .put("queued-timeout-ms", 800).put("processing-timeout-ms", 800).put("max-submissions", 1));
    Topics topics = config.kafka().topics();
    SubmitImage image = newImage(false);
    failureOf(bed.send(image));
    UUID jobId = (UUID) bed.jobsOf(image.imageId()).get(0).get("job_id");
    awaitClaims(jobId, 3);

    broker.open();

    DetectionFailed givenUp = DetectionFailed.fromJson(Buffer.buffer(
        TopicProbe.await(topics.detectionsFailed(), 1, r -> r.value().contains(jobId.toString()),
            Duration.ofSeconds(20)).get(0).value()));
    assertThat(givenUp.reason()).isEqualTo(DetectionFailed.NOT_PROCESSED);
    // given up only after its one allowed submission reached the broker
    assertThat(recordsOfJob(topics.imagesSubmitted(), jobId)).hasSize(1);
    assertThat(bed.job(jobId)).containsEntry("submissions", 1);
  }

  /** Waits until the sweeper claimed the job {@code claims} times (each claim stamps updated_at). */
  private static void awaitClaims(UUID jobId, int claims) throws Exception {
    Set<Object> stamps = new HashSet<>();
    stamps.add(bed.job(jobId).get("updated_at"));
    long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
    while (stamps.size() < claims + 1) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("the sweeper claimed job " + jobId + " " + (stamps.size() - 1) + " times, expected "
            + claims);
      }
      Thread.sleep(25);
      stamps.add(bed.job(jobId).get("updated_at"));
    }
  }
}
