package io.aiq.circles.inference;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.contracts.config.AppConfig;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.aiq.circles.contracts.events.ImageSubmitted;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.CloudEventHeaders;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.messaging.EventPublisher;
import io.aiq.circles.messaging.KafkaClients;
import io.aiq.circles.messaging.KafkaMetrics;
import io.aiq.circles.messaging.Outages;
import io.aiq.circles.persistence.ImageStore;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.buffer.Buffer;
import io.vertx.kafka.client.consumer.KafkaConsumer;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
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
public final class InferenceVerticle extends VerticleBase {
  private static final Logger LOG = LoggerFactory.getLogger(InferenceVerticle.class);
  static final String ROLE = "inference";

  private final AppConfig config;
  private final Detector detector;
  private final MeterRegistry registry;
  private Topics topics;
  private ImageStore store;
  private EventPublisher publisher;
  private WorkerExecutor executor;
  private ConsumerLoop loop;
  private AutoCloseable consumerMetrics;

  public InferenceVerticle(AppConfig config, Detector detector, MeterRegistry registry) {
    this.config = config;
    this.detector = detector;
    this.registry = registry;
  }

  @Override
  public Future<?> start() {
    topics = config.kafka().topics();
    store = new ImageStore(vertx, config.store().root());
    String clientId = "aiq-inference-" + UUID.randomUUID().toString().substring(0, 8);
    publisher = new EventPublisher(KafkaClients.producer(vertx, config.kafka(), clientId), "/aiq-circles/inference");
    executor = vertx.createSharedWorkerExecutor("aiq-inference", config.inference().workerThreads(),
        10, TimeUnit.MINUTES);
    KafkaConsumer<String, Buffer> consumer = KafkaClients.consumer(vertx, config.kafka(),
        config.kafka().group(ROLE), clientId, config.inference().batchSize());
    consumerMetrics = KafkaMetrics.bind(consumer, registry, ROLE);
    loop = new ConsumerLoop(vertx, consumer, List.of(topics.imagesSubmitted()), config.kafka().pollTimeout(),
        this::handle, new Backoff(config.inference().retryBackoffMs(), 10_000),
        new ConsumerLoop.RetryPolicy(config.kafka().maxRecordAttempts(), Outages::isKafkaOutage), this::giveUp, ROLE)
        .withBatchWindow(config.inference().batchSize(), Duration.ofMillis(config.inference().batchWaitMs()));
    return loop.start();
  }

  @Override
  public Future<?> stop() {
    return loop.stop().eventually(this::release);
  }

  /** Stops consuming at once, without committing the batch in hand, as a crash would (for tests). */
  public Future<Void> abort() {
    return loop.abort().eventually(this::release);
  }

  private Future<Void> release() {
    try {
      consumerMetrics.close();
    } catch (Exception e) {
      LOG.debug("closing consumer metrics: {}", e.toString());
    }
    executor.close();
    return publisher.close();
  }

  private record Work(KafkaConsumerRecord<String, Buffer> record, ImageSubmitted event, String traceparent) {
  }

  Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    List<Future<?>> acks = new ArrayList<>();
    List<Work> work = new ArrayList<>();
    for (KafkaConsumerRecord<String, Buffer> r : records) {
      try {
        work.add(new Work(r, ImageSubmitted.fromJson(r.value()),
            CloudEventHeaders.childOf(CloudEventHeaders.get(r, CloudEventHeaders.TRACEPARENT))));
      } catch (InvalidEventException e) {
        LOG.warn("dead-lettering an unreadable ImageSubmitted at {}-{}@{}: {}", r.topic(), r.partition(), r.offset(),
            e.getMessage());
        acks.add(publisher.deadLetter(topics.deadLetter(), r, config.kafka().group(ROLE), "invalid_event",
            e.getMessage(), 1));
        count("invalid_event");
      }
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
    // every read completes (a missing blob as null), so one image that is gone fails alone
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

  /**
   * A record that failed {@code kafka.max-record-attempts} times: its job ends failed and the record
   * is kept in the dead-letter topic. Both must be acknowledged before the partition moves on.
   */
  private Future<?> giveUp(KafkaConsumerRecord<String, Buffer> record, Throwable cause, int attempts) {
    count(DetectionFailed.PROCESSING_FAILED);
    String message = "gave up after " + attempts + " attempts: " + cause.getClass().getSimpleName();
    Future<?> dead = publisher.deadLetter(topics.deadLetter(), record, config.kafka().group(ROLE),
        DetectionFailed.PROCESSING_FAILED, message, attempts);
    ImageSubmitted ev;
    try {
      ev = ImageSubmitted.fromJson(record.value());
    } catch (InvalidEventException e) {
      return dead;
    }
    return Future.all(dead, publisher.publish(topics.detectionsFailed(), ev.imageId(), DetectionFailed.TYPE,
        new DetectionFailed(ev.jobId(), ev.imageId(), DetectionFailed.PROCESSING_FAILED,
            "the job could not be processed (" + attempts + " attempts)", Instant.now()).toJson(),
        CloudEventHeaders.childOf(CloudEventHeaders.get(record, CloudEventHeaders.TRACEPARENT))));
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

  /** The image's bytes, or null when its blob cannot be read (the job then fails as image_missing). */
  private Future<byte[]> load(ImageSubmitted event) {
    Future<Buffer> read;
    try {
      read = store.get(event.storageRef());
    } catch (IllegalArgumentException e) {
      read = Future.failedFuture(e);
    }
    return read.map(Buffer::getBytes).otherwise(e -> {
      LOG.warn("job {}: the stored image {} cannot be read: {}", event.jobId(), event.storageRef(), e.toString());
      return null;
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
    return Future.all(failed, publisher.deadLetter(topics.deadLetter(), w.record(), config.kafka().group(ROLE),
        outcome.reason(), outcome.message(), attempts));
  }

  private void count(String outcome) {
    registry.counter("aiq_inference_jobs_total", "outcome", outcome).increment();
  }
}
