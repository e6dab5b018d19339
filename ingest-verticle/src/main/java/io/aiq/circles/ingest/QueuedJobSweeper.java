package io.aiq.circles.ingest;

import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.persistence.StuckJob;
import io.aiq.circles.persistence.SubmissionRepository;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Republishes jobs whose event seems lost: still {@code queued} (or {@code processing}) long after
 * their last submission. After {@code max-submissions} it gives up and fails the job with
 * {@code not_processed}, through the same event any other failure takes, so the client hears of it.
 * Several instances may sweep at once: claims use {@code FOR UPDATE SKIP LOCKED}.
 */
public final class QueuedJobSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(QueuedJobSweeper.class);
  private static final int CLAIM_LIMIT = 100;

  private final AppConfig.Sweeper config;
  private final Topics topics;
  private final SubmissionRepository repository;
  private final EventPublisher publisher;
  private final PeriodicPass passes;

  QueuedJobSweeper(Vertx vertx, AppConfig.Sweeper config, Topics topics, SubmissionRepository repository,
                   EventPublisher publisher) {
    this.config = config;
    this.topics = topics;
    this.repository = repository;
    this.publisher = publisher;
    this.passes = new PeriodicPass(vertx, config.intervalMs(), this::pass);
  }

  void start() {
    passes.start();
  }

  void stop() {
    passes.stop();
  }

  /** One pass; overlapping passes are skipped. Resolves to the number of jobs republished or failed. */
  Future<Integer> sweep() {
    return passes.run();
  }

  private Future<Integer> pass() {
    return repository.claimStuckJobs(config.queuedTimeoutMs(), config.processingTimeoutMs(), CLAIM_LIMIT,
            config.maxSubmissions())
        .compose(jobs -> {
          List<Future<?>> sent = new ArrayList<>(jobs.size());
          for (StuckJob job : jobs) {
            sent.add(job.giveUp() ? giveUp(job) : republish(job));
          }
          if (!jobs.isEmpty()) {
            LOG.info("sweeper: {} stuck job(s) requeued or failed", jobs.size());
          }
          return Future.join(sent).map(jobs.size());
        })
        .onFailure(e -> LOG.warn("sweeper pass failed (next pass retries): {}", e.toString()));
  }

  private Future<?> republish(StuckJob job) {
    ImageSubmitted event = new ImageSubmitted(job.jobId().toString(), job.imageId(), job.storageRef(),
        job.contentType(), job.width(), job.height(), job.createdAt());
    return publisher.publish(topics.imagesSubmitted(), job.imageId(), ImageSubmitted.TYPE, event.toJson(),
            CloudEventHeaders.newTraceparent())
        .recover(e -> repository.uncountSubmission(job.jobId()).transform(ignored -> Future.failedFuture(e)));
  }

  private Future<?> giveUp(StuckJob job) {
    DetectionFailed event = new DetectionFailed(job.jobId().toString(), job.imageId(), DetectionFailed.NOT_PROCESSED,
        "no inference result after " + job.submissions() + " submissions", Instant.now());
    return publisher.publish(topics.detectionsFailed(), job.imageId(), DetectionFailed.TYPE, event.toJson(),
        CloudEventHeaders.newTraceparent());
  }
}
