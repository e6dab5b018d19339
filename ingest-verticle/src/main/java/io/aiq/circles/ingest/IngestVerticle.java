package io.aiq.circles.ingest;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_CANCEL;
import static io.aiq.circles.contracts.EventBusAddresses.INGEST_DELETE;
import static io.aiq.circles.contracts.EventBusAddresses.INGEST_SUBMIT;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.contracts.messages.DeleteImage;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.messaging.KafkaClients;
import io.aiq.circles.persistence.DeletionRepository;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.persistence.ImageStores;
import io.aiq.circles.persistence.NewImage;
import io.aiq.circles.persistence.Submission;
import io.aiq.circles.persistence.SubmissionRepository;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.eventbus.MessageConsumer;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Takes a validated upload from the gateway: stores the blob, records the image and its job in one
 * transaction, publishes {@link ImageSubmitted} and answers only once Kafka acknowledged it. The
 * order (blob, then row, then event) means a failure at any step leaves nothing a client was told
 * about unfinished: a job row whose event was not acknowledged is answered 503 and later republished
 * by the {@link QueuedJobSweeper}. Deletion ({@code DELETE /images/{id}}) and retention run here too,
 * where the store and the rows are owned: see {@link ImageDeleter} and {@link RetentionSweeper}.
 */
public final class IngestVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(IngestVerticle.class);

  private final AppConfig config;
  private final Pool pool;
  private final MeterRegistry registry;
  private EventPublisher publisher;
  private EventPublisher sweeperPublisher;
  private ImageStore store;
  private SubmissionRepository repository;
  private MessageConsumer<Buffer> consumer;
  private QueuedJobSweeper sweeper;
  private ImageDeleter deleter;
  private RetentionSweeper retention;
  private IdempotencyKeeper idempotency;
  private MessageConsumer<JsonObject> deleteConsumer;
  private JobCanceller canceller;
  private MessageConsumer<JsonObject> cancelConsumer;

  public IngestVerticle(AppConfig config, Pool pool, MeterRegistry registry) {
    this.config = config;
    this.pool = pool;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    store = ImageStores.create(vertx, config.store());
    repository = new SubmissionRepository(pool);
    publisher = new EventPublisher(KafkaClients.producer(vertx, config.kafka(), "aiq-ingest-" + shortId()),
        "/aiq-circles/ingest");
    // The sweeper publishes with a producer of its own. Kafka expires a batch by its creation time,
    // so an upload's event appended to a batch the sweeper filled while the broker was away inherited
    // that batch's deadline, and failed (503) seconds after the broker was back.
    sweeperPublisher = new EventPublisher(KafkaClients.producer(vertx, config.kafka(), "aiq-sweeper-" + shortId()),
        "/aiq-circles/ingest");
    sweeper = new QueuedJobSweeper(vertx, config.sweeper(), config.kafka().topics(), repository, sweeperPublisher);
    consumer = vertx.eventBus().consumer(INGEST_SUBMIT, this::submit);
    // deletion runs here, where the store and the job rows are owned (see ImageDeleter)
    DeletionRepository deletions = new DeletionRepository(pool);
    deleter = new ImageDeleter(store, deletions, publisher, config.kafka().topics(), registry);
    // Idempotency-Keys of uploads are kept here too, and forgotten by the retention sweep
    idempotency = new IdempotencyKeeper(vertx, new io.aiq.circles.persistence.IdempotencyRepository(pool),
        config.uploadBatches().idempotencyTtlHours());
    retention = new RetentionSweeper(vertx, config.retention(),
        new ImageDeleter(store, deletions, sweeperPublisher, config.kafka().topics(), registry), idempotency::expire);
    deleteConsumer = vertx.eventBus().consumer(INGEST_DELETE, this::delete);
    // cancellation too: the job rows are written here (see JobCanceller)
    canceller = new JobCanceller(vertx, new io.aiq.circles.persistence.CancellationRepository(pool), publisher,
        sweeperPublisher, config.kafka().topics(), config.sweeper().intervalMs(), registry);
    cancelConsumer = vertx.eventBus().consumer(INGEST_CANCEL, this::cancel);
    return Future.join(consumer.completion(), deleteConsumer.completion(), cancelConsumer.completion(),
        idempotency.start()).onSuccess(v -> {
      if (config.sweeper().enabled()) {
        sweeper.start();
        canceller.start();
      }
      retention.start();
    });
  }

  @Override
  public Future<?> stop() {
    sweeper.stop();
    retention.stop();
    canceller.stop();
    cancelConsumer.unregister();
    idempotency.stop();
    return Future.join(consumer.unregister(), deleteConsumer.unregister()).eventually(() -> Future.join(publisher.close(), sweeperPublisher.close(), store.close()));
  }

  private void submit(Message<Buffer> message) {
    Timer.Sample sample = Timer.start(registry);
    SubmitImage upload = SubmitImage.fromMessage(message);
    Buffer bytes = upload.bytes();
    timed("store", () -> store.put(upload.imageId(), extension(upload.format()), bytes))
        // a store that cannot answer now (S3 unreachable, throttling) is a 503 to retry, not a 500
        .recover(e -> failure(ImageStore.isUnavailable(e) ? ErrorCode.UNAVAILABLE : ErrorCode.INTERNAL,
            "the image could not be stored", e))
        .compose(ref -> timed("database", () -> repository.submit(new NewImage(upload.imageId(), ref,
                upload.contentType(), upload.format(), upload.width(), upload.height(), bytes.length()),
                upload.reprocess(), upload.callbackUrl()))
            .recover(e -> failure(ErrorCode.UNAVAILABLE, "the database is unavailable", e)))
        // a deletion of the same bytes raced this upload and may have removed the blob stored above
        .compose(submission -> submission.restoreBlob() ? store.put(upload.imageId(), extension(upload.format()), bytes)
            .recover(e -> failure(ImageStore.isUnavailable(e) ? ErrorCode.UNAVAILABLE : ErrorCode.INTERNAL,
                "the image could not be stored", e)).map(submission)
            : Future.succeededFuture(submission))
        .compose(submission -> submission.newJob() ? timed("publish", () -> publish(submission)).map(submission)
            : Future.succeededFuture(submission))
        .onSuccess(s -> {
          sample.stop(registry.timer("aiq_ingest_seconds", "outcome", s.newJob() ? "queued" : "duplicate"));
          message.reply(new io.aiq.circles.contracts.messages.Submission(s.jobId().toString(), s.imageId(), s.status(),
              s.newJob()).toJson());
        })
        .onFailure(e -> {
          sample.stop(registry.timer("aiq_ingest_seconds", "outcome", "failed"));
          ErrorCode.ApiFailure f = ErrorCode.fromFailure(e);
          f.code().fail(message, f.message());
        });
  }

  private void delete(Message<JsonObject> message) {
    DeleteImage request = DeleteImage.fromJson(message.body());
    deleter.deleteRequested(request.imageId())
        .onSuccess(v -> message.reply(request.toJson()))
        .onFailure(e -> {
          ErrorCode.ApiFailure f = ErrorCode.fromFailure(e);
          f.code().fail(message, f.message());
        });
  }

  private void cancel(Message<JsonObject> message) {
    io.aiq.circles.contracts.messages.CancelJob request =
        io.aiq.circles.contracts.messages.CancelJob.fromJson(message.body());
    UUID jobId;
    try {
      jobId = UUID.fromString(request.jobId());
    } catch (RuntimeException e) {
      ErrorCode.INVALID_ID.fail(message, "job ids are UUIDs");
      return;
    }
    canceller.cancelRequested(jobId)
        .onSuccess(job -> message.reply(new JsonObject().put("jobId", job.jobId().toString())
            .put("status", job.status().wire())))
        .onFailure(e -> {
          ErrorCode.ApiFailure f = ErrorCode.fromFailure(e);
          f.code().fail(message, f.message());
        });
  }

  private Future<Void> publish(Submission s) {
    ImageSubmitted event = new ImageSubmitted(s.jobId().toString(), s.imageId(), s.storageRef(), s.contentType(),
        s.width(), s.height(), s.submittedAt());
    return publisher.publish(config.kafka().topics().imagesSubmitted(), s.imageId(), ImageSubmitted.TYPE,
            event.toJson(), CloudEventHeaders.newTraceparent())
        .<Void>mapEmpty()
        .recover(e -> repository.uncountSubmission(s.jobId()).transform(ignored -> failure(ErrorCode.UNAVAILABLE,
            "the job " + s.jobId() + " is saved but the message broker did not confirm it; it will be retried, and"
                + " uploading again returns it", e)));
  }

  /**
   * Times one step of an upload ({@code aiq_ingest_stage_seconds{stage}}: store, database, publish),
   * so that where a lone upload's milliseconds go can be read from the metrics (issue 17).
   */
  private <T> Future<T> timed(String stage, java.util.function.Supplier<Future<T>> step) {
    Timer.Sample sample = Timer.start(registry);
    return step.get().andThen(ignored -> sample.stop(registry.timer("aiq_ingest_stage_seconds", "stage", stage)));
  }

  private static <T> Future<T> failure(ErrorCode code, String message, Throwable cause) {
    LOG.warn("upload failed: {}: {}", message, cause.toString());
    return Future.failedFuture(code.asReply(message));
  }

  static String extension(String format) {
    return "jpeg".equals(format) ? "jpg" : format;
  }

  private static String shortId() {
    return UUID.randomUUID().toString().substring(0, 8);
  }
}
