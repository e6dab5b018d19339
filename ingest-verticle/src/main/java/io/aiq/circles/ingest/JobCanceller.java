package io.aiq.circles.ingest;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.JobCancelled;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.persistence.CancellationRepository;
import io.aiq.circles.persistence.CancellationRepository.Pending;
import io.aiq.circles.persistence.JobView;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.time.Instant;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Cancels jobs ({@code DELETE /jobs/{jobId}}): a job still queued or processing becomes
 * {@code cancelled}, and {@link JobCancelled} is published on {@code aiq.jobs.cancelled} so inference
 * skips it if it has not run it yet.
 *
 * <p>The row is what cancels: from its commit the job answers {@code cancelled}, and the results
 * writer never moves it out of that status, so a result inference publishes anyway (it was already in
 * the model, or never heard of the cancellation) changes nothing. The event only saves the work. So a
 * request whose event the broker did not acknowledge is still answered with the cancelled job; the
 * event, recorded as pending in the same statement as the update, is published by a repeated DELETE
 * or by this class's sweep (every {@code sweeper.interval-ms}, for cancellations pending longer than
 * that), and removed from the record only once acknowledged: delivered at least once, never dropped.
 */
final class JobCanceller {
  private static final Logger LOG = LoggerFactory.getLogger(JobCanceller.class);
  private static final int SWEEP_LIMIT = 100;

  private final CancellationRepository repository;
  private final EventPublisher publisher;
  private final EventPublisher sweepPublisher;
  private final Topics topics;
  private final long graceMs;
  private final PeriodicPass passes;
  private final Counter cancelled;

  JobCanceller(Vertx vertx, CancellationRepository repository, EventPublisher publisher, EventPublisher sweepPublisher,
               Topics topics, long sweepIntervalMs, MeterRegistry registry) {
    this.repository = repository;
    this.publisher = publisher;
    this.sweepPublisher = sweepPublisher;
    this.topics = topics;
    this.graceMs = sweepIntervalMs;
    this.passes = new PeriodicPass(vertx, sweepIntervalMs, this::sweepPass);
    this.cancelled = Counter.builder("aiq_jobs_cancelled_total")
        .description("Jobs cancelled by DELETE /jobs/{jobId} before they finished").register(registry);
  }

  void start() {
    passes.start();
  }

  void stop() {
    passes.stop();
  }

  /**
   * DELETE /jobs/{jobId}: the job, cancelled (now or before); fails as an API error: not_found,
   * job_finished (its status in the message), unavailable (the database).
   */
  Future<JobView> cancelRequested(UUID jobId) {
    return repository.cancel(jobId)
        .recover(e -> {
          LOG.warn("cancellation of {} failed: {}", jobId, e.toString());
          return Future.failedFuture(ErrorCode.UNAVAILABLE.asReply("the database is unavailable"));
        })
        .compose(r -> switch (r.found()) {
          case NOT_FOUND -> Future.failedFuture(ErrorCode.NOT_FOUND.asReply("no job " + jobId));
          case FINISHED -> Future.failedFuture(ErrorCode.JOB_FINISHED.asReply("job " + jobId + " has "
              + r.job().status().wire() + "; only a queued or processing job can be cancelled"));
          case CANCELLED_NOW, ALREADY_CANCELLED -> {
            if (r.found() == CancellationRepository.Found.CANCELLED_NOW) {
              cancelled.increment();
            }
            JobView job = r.job();
            yield !r.publishPending() ? Future.succeededFuture(job)
                : announce(publisher, job.jobId(), job.imageId(), job.finishedAt())
                    // the job is cancelled either way; the sweep publishes the event later
                    .otherwise(e -> {
                      LOG.warn("job {} is cancelled, its event is not published yet (retried by the sweep): {}",
                          jobId, e.toString());
                      return null;
                    })
                    .map(job);
          }
        });
  }

  /** One pass now: publishes the cancellations pending longer than the grace; resolves to how many. */
  Future<Integer> sweep() {
    return passes.run();
  }

  private Future<Integer> sweepPass() {
    return repository.unpublished(graceMs, SWEEP_LIMIT).compose(left -> {
      Future<Integer> done = Future.succeededFuture(0);
      for (Pending p : left) {
        done = done.compose(n -> announce(sweepPublisher, p.jobId(), p.imageId(), p.cancelledAt()).map(n + 1));
      }
      return done;
    }).onFailure(e -> LOG.warn("cancellation sweep failed (the next pass retries): {}", e.toString()));
  }

  /** Publishes the event, then forgets the pending record (a crash between the two publishes it twice). */
  private Future<Void> announce(EventPublisher via, UUID jobId, String imageId, Instant cancelledAt) {
    JobCancelled event = new JobCancelled(jobId.toString(), imageId, cancelledAt);
    return via.publish(topics.jobsCancelled(), imageId, JobCancelled.TYPE, event.toJson(),
            CloudEventHeaders.newTraceparent())
        .compose(ack -> repository.markPublished(jobId));
  }
}
