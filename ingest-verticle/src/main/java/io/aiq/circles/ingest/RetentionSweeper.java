package io.aiq.circles.ingest;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every {@code retention.interval-ms}: finishes deletions a crash or an outage left half done (their
 * rows gone, the blob or the event still to do), then, when {@code retention.days} is set, deletes up
 * to {@code retention.batch-size} images uploaded longer ago than that and without a job in flight,
 * then forgets finished deletions older than {@link #PRUNE_DAYS}, and Idempotency-Keys older than
 * {@code upload.idempotency-ttl-hours} (up to a batch a pass). Several replicas may sweep at once:
 * images and deletions are claimed with {@code FOR UPDATE SKIP LOCKED}.
 */
final class RetentionSweeper {
  private static final Logger LOG = LoggerFactory.getLogger(RetentionSweeper.class);
  /** A deletion younger than this may still be being finished by its own request: left to it. */
  static final long GRACE_MS = 30_000;
  /**
   * Finished deletions (and the ids of deleted jobs) are kept this long: a result still on its way
   * for a deleted job is skipped while it is remembered (Kafka's default retention is 7 days), and
   * an upload racing a deletion reads them.
   */
  static final int PRUNE_DAYS = 7;

  private final AppConfig.Retention config;
  private final ImageDeleter deleter;
  private final PeriodicPass passes;
  /** Forgets up to n expired Idempotency-Keys (IdempotencyKeeper#expire); resolves to how many. */
  private final java.util.function.IntFunction<Future<Integer>> expireIdempotencyKeys;

  RetentionSweeper(Vertx vertx, AppConfig.Retention config, ImageDeleter deleter) {
    this(vertx, config, deleter, n -> Future.succeededFuture(0));
  }

  RetentionSweeper(Vertx vertx, AppConfig.Retention config, ImageDeleter deleter,
                   java.util.function.IntFunction<Future<Integer>> expireIdempotencyKeys) {
    this.config = config;
    this.deleter = deleter;
    this.expireIdempotencyKeys = expireIdempotencyKeys;
    this.passes = new PeriodicPass(vertx, config.intervalMs(), this::pass);
  }

  void start() {
    passes.start();
  }

  void stop() {
    passes.stop();
  }

  /** One pass; overlapping passes are skipped. Resolves to the number of images deleted by retention. */
  Future<Integer> sweep() {
    return passes.run();
  }

  private Future<Integer> pass() {
    return deleter.finishUnfinished(GRACE_MS, config.batchSize())
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("retention: {} interrupted deletion(s) finished", n);
          }
        })
        .compose(n -> config.enabled() ? deleter.deleteExpired(config.days(), config.batchSize())
            : Future.succeededFuture(0))
        .onSuccess(n -> {
          if (n > 0) {
            LOG.info("retention: {} image(s) older than {} days deleted", n, config.days());
          }
        })
        .compose(n -> deleter.prune(PRUNE_DAYS).map(n))
        // expired Idempotency-Keys go too (upload.idempotency-ttl-hours); a failure here is retried next pass
        .compose(n -> expireIdempotencyKeys.apply(config.batchSize())
            .onSuccess(k -> {
              if (k > 0) {
                LOG.info("retention: {} expired Idempotency-Key(s) forgotten", k);
              }
            })
            .map(n))
        .onFailure(e -> LOG.warn("retention pass failed (the next pass retries): {}", e.toString()));
  }
}
