package io.aiq.circles.inference;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.messaging.ConsumerVerticle;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.persistence.ImageStores;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes {@link ImageSubmitted} in a consumer group and answers each with
 * {@link DetectionsCompleted} or {@link DetectionFailed}. A micro-batch is up to
 * {@code inference.batch-size} images, or those that arrived within {@code inference.batch-wait-ms}
 * of its first: its images are decoded and run through the detector on worker threads, never on
 * the event loop. Each image succeeds or fails alone: a blob that is gone, pixels that cannot be
 * decoded, an image the model fails on end that job (and dead-letter its record), never its
 * batchmates'. Offsets are committed only after every output of the batch was acknowledged by the
 * broker; if any was not, the batch runs again (the results role absorbs the repeats).
 */
public final class InferenceVerticle extends ConsumerVerticle {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);

  private final Detector detector;
  private CancelledJobs cancelledJobs;
  private ImageStore store;
  private WorkerExecutor executor;

  public InferenceVerticle(AppConfig config, Detector detector, MeterRegistry registry) {
    super(config, registry, Role.INFERENCE.wire());
    this.detector = detector;
  }

  @Override
  protected List<String> subscriptions() {
    return List.of(topics.imagesSubmitted());
  }

  @Override
  protected int maxPollRecords() {
    return config.inference().batchSize();
  }

  @Override
  protected Backoff backoff() {
    return new Backoff(config.inference().retryBackoffMs(), config.inference().retryBackoffMaxMs());
  }

  @Override
  protected Future<Void> setUp() {
    store = ImageStores.create(vertx, config.store());
    executor = vertx.createSharedWorkerExecutor("aiq-inference", config.inference().workerThreads(),
        10, TimeUnit.MINUTES);
    // the cancellations are followed before the first submission is taken, so a backlog that holds
    // cancelled jobs skips them (see CancelledJobs)
    cancelledJobs = new CancelledJobs(vertx, config.kafka(), registry);
    return cancelledJobs.start(role());
  }

  @Override
  protected ConsumerLoop configure(ConsumerLoop loop) {
    // the model runs native code: an image that brings the process down must not do so forever
    return loop.withBatchWindow(config.inference().batchSize(), Duration.ofMillis(config.inference().batchWaitMs()))
        .withCrashGuard();
  }

  @Override
  protected void tearDown() {
    if (cancelledJobs != null) {
      cancelledJobs.stop();
    }
    if (executor != null) {
      executor.close();
    }
    if (store != null) {
      store.close();
    }
  }

  /** The image store away (unreachable, throttling, refusing us) is an outage too: retried, not counted. */
  @Override
  protected boolean isOutage(Throwable failure) {
    return super.isOutage(failure) || ImageStore.isUnavailable(failure);
  }

  private record Work(KafkaConsumerRecord<String, Buffer> record, ImageSubmitted event, String traceparent) {
  }

  @Override
  protected Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    List<Future<?>> acks = new ArrayList<>();
    List<Work> work = new ArrayList<>();
    for (KafkaConsumerRecord<String, Buffer> r : records) {
      try {
        ImageSubmitted submitted = ImageSubmitted.fromJson(r.value());
        if (cancelledJobs.contains(submitted.jobId())) {
          // cancelled by a client (DELETE /jobs/{id}): nothing to publish, its offset is committed
          registry.counter("aiq_inference_skipped_total", "reason", "cancelled").increment();
          LOG.debug("skipping job {}: cancelled", submitted.jobId());
          continue;
        }
        work.add(new Work(r, submitted,
            CloudEventHeaders.childOf(CloudEventHeaders.get(r, CloudEventHeaders.TRACEPARENT))));
      } catch (InvalidEventException e) {
        acks.add(deadLetter(r, InvalidEventException.REASON, e.getMessage(), 1));
        count(InvalidEventException.REASON);
      }
    }
    if (work.isEmpty()) {
      // all skipped (cancelled) or dead-lettered: no batch for the model
      return Future.all(acks).map(v -> ConsumerLoop.Handled.all(records));
    }
    Instant now = Instant.now();
    for (Work w : work) {
      acks.add(publisher.publish(topics.detectionsStarted(), w.event().imageId(), DetectionStarted.TYPE,
          new DetectionStarted(w.event().jobId(), w.event().imageId(), now).toJson(), w.traceparent()));
    }
    List<Future<byte[]>> blobs = new ArrayList<>(work.size());
    for (Work w : work) {
      blobs.add(load(w.event()));
    }
    // every read completes (a missing blob as null), so one image that is gone fails alone; a store
    // that cannot answer fails the batch, an outage retried as a broker's is
    return Future.all(blobs)
        .compose(v -> {
          List<byte[]> bytes = new ArrayList<>(blobs.size());
          for (Future<byte[]> blob : blobs) {
            bytes.add(blob.result());
          }
          return runInParallel(bytes);
        })
        .compose(outcomes -> {
          registry.summary("aiq_inference_batch_size").record(work.size());
          for (int i = 0; i < work.size(); i++) {
            acks.add(publishOutcome(work.get(i), outcomes.get(i)));
          }
          return Future.all(acks);
        })
        .map(v -> ConsumerLoop.Handled.all(records));
  }

  /** A record given up after {@code kafka.max-record-attempts}: its job ends failed. */
  @Override
  protected Future<?> failJob(KafkaConsumerRecord<String, Buffer> record, int attempts) {
    count(DetectionFailed.PROCESSING_FAILED);
    ImageSubmitted ev;
    try {
      ev = ImageSubmitted.fromJson(record.value());
    } catch (InvalidEventException e) {
      return Future.succeededFuture();
    }
    return publisher.publish(topics.detectionsFailed(), ev.imageId(), DetectionFailed.TYPE,
        new DetectionFailed(ev.jobId(), ev.imageId(), DetectionFailed.PROCESSING_FAILED,
            "the job could not be processed (" + attempts + " attempts)", Instant.now()).toJson(),
        CloudEventHeaders.childOf(CloudEventHeaders.get(record, CloudEventHeaders.TRACEPARENT)));
  }

  /**
   * Splits the batch into one part per worker thread and runs the parts at once: with one
   * TensorFlow thread per call, concurrent callers use the cores better than one caller with several
   * TensorFlow threads (see docs/benchmarks.md). Outcomes come back in the batch's order.
   */
  private Future<List<BatchRun.Outcome>> runInParallel(List<byte[]> bytes) {
    int parts = Math.max(1, Math.min(config.inference().workerThreads(), bytes.size()));
    List<Future<BatchRun.Result>> runs = new ArrayList<>(parts);
    int size = (bytes.size() + parts - 1) / parts;
    for (int from = 0; from < bytes.size(); from += size) {
      List<byte[]> part = bytes.subList(from, Math.min(bytes.size(), from + size));
      runs.add(executor.executeBlocking(() -> BatchRun.run(detector, part, config.inference().maxAttempts(),
          config.inference().retryBackoffMs()), false));
    }
    return Future.all(runs).map(all -> {
      List<BatchRun.Outcome> outcomes = new ArrayList<>(bytes.size());
      for (Future<BatchRun.Result> run : runs) {
        registry.timer("aiq_inference_batch_seconds").record(run.result().millis(), TimeUnit.MILLISECONDS);
        for (BatchRun.Outcome o : run.result().outcomes()) {
          if (o.decodeNanos() > 0) {
            registry.timer("aiq_inference_decode_seconds").record(o.decodeNanos(), TimeUnit.NANOSECONDS);
          }
        }
        outcomes.addAll(run.result().outcomes());
      }
      return outcomes;
    });
  }

  /**
   * The image's bytes, or null when its blob cannot be read (the job then fails as image_missing);
   * fails when the store is unavailable (nothing is known about the blob then).
   */
  private Future<byte[]> load(ImageSubmitted event) {
    Future<Buffer> read;
    try {
      read = store.get(event.storageRef());
    } catch (IllegalArgumentException e) {
      read = Future.failedFuture(e);
    }
    return read.map(Buffer::getBytes).recover(e -> {
      if (ImageStore.isUnavailable(e)) {
        return Future.failedFuture(e);
      }
      LOG.warn("job {}: the stored image {} cannot be read: {}", event.jobId(), event.storageRef(), e.toString());
      return Future.succeededFuture(null);
    });
  }

  private Future<?> publishOutcome(Work w, BatchRun.Outcome outcome) {
    ImageSubmitted ev = w.event();
    String key = ev.imageId();
    if (outcome.detections() != null) {
      count("succeeded");
      List<Detection> dets = outcome.detections();
      return publisher.publish(topics.detectionsCompleted(), key, DetectionsCompleted.TYPE,
          new DetectionsCompleted(ev.jobId(), ev.imageId(), detector.modelName(), detector.modelVersion(), dets,
              outcome.millis(), Instant.now()).toJson(), w.traceparent());
    }
    count(outcome.reason());
    Future<?> failed = publisher.publish(topics.detectionsFailed(), key, DetectionFailed.TYPE,
        new DetectionFailed(ev.jobId(), ev.imageId(), outcome.reason(), outcome.message(), Instant.now()).toJson(),
        w.traceparent());
    // a poison input (undecodable pixels, a missing blob, a model that failed on it repeatedly): the
    // job is failed, and the record is kept in the dead-letter topic for an operator to inspect and replay
    int attempts = DetectionFailed.MODEL_ERROR.equals(outcome.reason()) ? config.inference().maxAttempts() : 1;
    return Future.all(failed, deadLetter(w.record(), outcome.reason(), outcome.message(), attempts));
  }

  private void count(String outcome) {
    registry.counter("aiq_inference_jobs_total", "outcome", outcome).increment();
  }
}
