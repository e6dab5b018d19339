package io.aiq.circles.gateway;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.messaging.BacklogMonitor;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.Locale;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * Whether the gateway takes another upload now: "not now" (503 + Retry-After) when the backlog
 * waiting for inference is past its bound in jobs or in seconds of work, or when the upload bytes
 * held in memory would pass theirs. Reads, health and the jobs already accepted are never refused
 * here: the point is that what was accepted can be finished within the bound.
 */
public final class Admission {
  /** Retry-After never says more than this: a client should look again soon, the backlog moves. */
  static final long MAX_RETRY_AFTER_SECONDS = 30;

  /** Why an upload is refused, and when to try again. */
  public record Refusal(String message, long retryAfterSeconds) {
  }

  private final AppConfig.Upload limits;
  private final Supplier<BacklogMonitor.Backlog> backlog;
  private final AtomicLong bytesInFlight = new AtomicLong();

  public Admission(AppConfig.Upload limits, Supplier<BacklogMonitor.Backlog> backlog, MeterRegistry registry) {
    this.limits = limits;
    this.backlog = backlog;
    Gauge.builder("aiq_upload_bytes_in_flight", bytesInFlight, AtomicLong::get)
        .description("upload bytes held in memory by the gateway").register(registry);
    Gauge.builder("aiq_admission_backlog_jobs", this, a -> a.reading(BacklogMonitor.Backlog::jobs))
        .description("jobs waiting for inference (the inference group's lag)").register(registry);
    Gauge.builder("aiq_admission_backlog_seconds", this, a -> a.reading(BacklogMonitor.Backlog::secondsOfWork))
        .description("seconds of work waiting: the lag over the drain rate measured while busy").register(registry);
    Gauge.builder("aiq_admission_capacity_jobs_per_second", this, a -> a.reading(BacklogMonitor.Backlog::capacityPerSecond))
        .description("the inference consumers' drain rate, measured while they were busy").register(registry);
  }

  private double reading(java.util.function.ToDoubleFunction<BacklogMonitor.Backlog> f) {
    BacklogMonitor.Backlog b = backlog.get();
    return b == null ? Double.NaN : f.applyAsDouble(b);
  }

  /** @return null when a new upload may come in, else why not */
  public Refusal checkBacklog() {
    return checkBacklog(1);
  }

  /**
   * Whether a batch of {@code files} uploads may come in: all of them or none. Each file counts as an
   * upload would, so the batch is refused when its last file would be, had they come one by one
   * (the backlog plus the others ahead of it past the bound): a batch does not slip past the bound.
   *
   * @return null when they may, else why not
   */
  public Refusal checkBacklog(int files) {
    BacklogMonitor.Backlog reading = backlog.get();
    BacklogMonitor.Backlog b = reading == null || files <= 1 ? reading : ahead(reading, files - 1);
    if (b == null) {
      // no reading (broker away, or the monitor just started): ingest answers for the broker itself
      return null;
    }
    double seconds = b.secondsOfWork();
    if (limits.maxBacklogSeconds() > 0 && seconds > limits.maxBacklogSeconds()) {
      return new Refusal(String.format(Locale.ROOT, "the service is at capacity: %d images wait, about %.0f s of work "
              + "(at most %.0f s are queued); retry later", b.jobs(), seconds, limits.maxBacklogSeconds()),
          retryAfter(seconds - limits.maxBacklogSeconds()));
    }
    if (limits.maxQueuedJobs() > 0 && b.jobs() > limits.maxQueuedJobs()) {
      double excess = b.jobs() - limits.maxQueuedJobs();
      return new Refusal("the service is at capacity: " + b.jobs() + " images wait (at most " + limits.maxQueuedJobs()
          + " are queued); retry later", retryAfter(b.capacityPerSecond() > 0 ? excess / b.capacityPerSecond() : 5));
    }
    return null;
  }

  /** The backlog as the last of a batch sees it: {@code more} jobs ahead (their seconds of work follow). */
  private static BacklogMonitor.Backlog ahead(BacklogMonitor.Backlog b, int more) {
    return new BacklogMonitor.Backlog(b.jobs() + more, b.capacityPerSecond(), b.measuredAtNanos());
  }

  /**
   * Reserves room for an upload's bytes as they arrive (its Content-Length at once when it has one).
   *
   * @return false, reserving nothing, when they would pass {@code upload.max-bytes-in-flight}
   */
  public boolean reserve(long bytes) {
    while (true) {
      long now = bytesInFlight.get();
      if (now + bytes > limits.maxBytesInFlight() && now > 0) {
        return false;
      }
      if (bytesInFlight.compareAndSet(now, now + bytes)) {
        return true;
      }
    }
  }

  public void release(long bytes) {
    bytesInFlight.addAndGet(-bytes);
  }

  public long bytesInFlight() {
    return bytesInFlight.get();
  }

  public Refusal memoryRefusal() {
    return new Refusal("the service holds " + limits.maxBytesInFlight() + " bytes of uploads already; retry shortly", 1);
  }

  static long retryAfter(double seconds) {
    if (Double.isNaN(seconds)) {
      return 5;
    }
    return Math.max(1, Math.min(MAX_RETRY_AFTER_SECONDS, (long) Math.ceil(seconds)));
  }
}
