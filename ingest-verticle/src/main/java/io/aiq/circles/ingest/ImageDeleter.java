package io.aiq.circles.ingest;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.events.ImageDeleted;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.persistence.DeletionRepository;
import io.aiq.circles.persistence.DeletionRepository.Deletion;
import io.aiq.circles.persistence.ImageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import java.util.List;
import java.util.UUID;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Deletes images: on request ({@code DELETE /images/{imageId}}) and for the {@link RetentionSweeper}.
 *
 * <p>A deletion is refused (409 {@code job_in_flight}) while a job of the image is queued or
 * processing, rather than cancelling the job: inference holds no database handle to be told, and a
 * job already in the model would publish its result anyway; refusing keeps every accepted job's
 * promise (it ends succeeded or failed, visibly) and costs the client one retry once it has.
 *
 * <p>The order of effects, each step recorded so a crash between two is finished later:
 * <ol>
 *   <li>rows: the image, its jobs and their detections, in one transaction that also records the
 *       deletion (what is left to do) and the deleted job ids. From its commit the image answers 404.
 *   <li>blob: removed while the deletion's row is held (an upload of the same bytes racing it waits,
 *       then stores its blob again), then marked done. A store that fails rolls this step back: no
 *       row ever points at a missing blob, and the blob is never orphaned, as the record stays.
 *   <li>event: {@link ImageDeleted} on {@code aiq.images.deleted}, keyed by image id; once the broker
 *       acknowledged it the deletion is finished.
 * </ol>
 * A request whose step 2 or 3 failed is answered 503; the same DELETE again finishes it (204), and so
 * does the sweep after a grace period. The event is delivered at least once.
 */
final class ImageDeleter {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDeleter.class);

  private final ImageStore store;
  private final DeletionRepository repository;
  private final EventPublisher publisher;
  private final Topics topics;
  private final MeterRegistry registry;

  ImageDeleter(ImageStore store, DeletionRepository repository, EventPublisher publisher, Topics topics,
               MeterRegistry registry) {
    this.store = store;
    this.repository = repository;
    this.publisher = publisher;
    this.topics = topics;
    this.registry = registry;
  }

  /** DELETE /images/{imageId}: succeeds once the image is gone and announced; fails as an API error. */
  Future<Void> deleteRequested(String imageId) {
    return repository.deleteRequested(imageId, ImageDeleted.REQUEST)
        .recover(e -> failure(ErrorCode.UNAVAILABLE, "the database is unavailable", e))
        .compose(r -> switch (r.found()) {
          case NOT_FOUND -> Future.failedFuture(ErrorCode.NOT_FOUND.asReply("no image " + imageId));
          case IN_FLIGHT -> Future.failedFuture(ErrorCode.JOB_IN_FLIGHT.asReply("a job of image " + imageId
              + " is queued or processing; the image can be deleted once its jobs have finished"));
          case DELETED -> {
            if (r.deletedNow()) {
              count(ImageDeleted.REQUEST, 1);
            }
            yield finishAll(r.toFinish(), true).recover(e -> failure(ErrorCode.UNAVAILABLE, "the image's records"
                + " are deleted, but removing its file or announcing the deletion failed; it is finished later,"
                + " or by sending this DELETE again", e));
          }
        });
  }

  /** Retention: the rows of up to {@code limit} expired images, then each one's blob and event. */
  Future<Integer> deleteExpired(int days, int limit) {
    return repository.deleteExpired(days, limit).compose(deleted -> {
      count(ImageDeleted.RETENTION, deleted.size());
      return finishAll(deleted, true).map(deleted.size());
    });
  }

  /** Deletions left unfinished for longer than {@code graceMs}: each is finished unless someone else is on it. */
  Future<Integer> finishUnfinished(long graceMs, int limit) {
    return repository.unfinished(graceMs, limit).compose(left -> {
      Future<Integer> done = Future.succeededFuture(0);
      for (Deletion d : left) {
        done = done.compose(n -> finish(d, false).map(finished -> finished ? n + 1 : n));
      }
      return done;
    });
  }

  Future<Void> prune(int days) {
    return repository.prune(days);
  }

  /** One after another, so a failing store is not hit by a whole batch at once; stops at the first failure. */
  private Future<Void> finishAll(List<Deletion> deletions, boolean wait) {
    Future<Void> done = Future.succeededFuture();
    for (Deletion d : deletions) {
      done = done.compose(v -> finish(d, wait).mapEmpty());
    }
    return done;
  }

  /** The blob, then the event; false when another process holds the deletion (and so finishes it). */
  private Future<Boolean> finish(Deletion d, boolean wait) {
    return repository.removeBlob(d.deletionId(), wait, store::delete)
        .compose(held -> !held ? Future.succeededFuture(false) : publish(d)
            .compose(v -> repository.markPublished(d.deletionId())).map(true));
  }

  private Future<Void> publish(Deletion d) {
    List<String> jobs = d.jobIds().stream().map(UUID::toString).collect(Collectors.toList());
    ImageDeleted event = new ImageDeleted(d.imageId(), jobs, d.reason(), d.deletedAt());
    return publisher.publish(topics.imagesDeleted(), d.imageId(), ImageDeleted.TYPE, event.toJson(),
        CloudEventHeaders.newTraceparent()).mapEmpty();
  }

  private void count(String reason, int n) {
    if (n > 0) {
      registry.counter("aiq_images_deleted_total", "reason", reason).increment(n);
    }
  }

  private static <T> Future<T> failure(ErrorCode code, String message, Throwable cause) {
    LOG.warn("deletion failed: {}: {}", message, cause.toString());
    return Future.failedFuture(code.asReply(message));
  }
}
