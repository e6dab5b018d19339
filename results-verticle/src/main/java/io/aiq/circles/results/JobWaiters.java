package io.aiq.circles.results;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.JobStatus;
import io.aiq.circles.persistence.JobView;
import io.aiq.circles.persistence.QueryRepository;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.AsyncResult;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.pgclient.pubsub.PgSubscriber;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The {@code Prefer: wait} requests this process holds, woken when their job changes instead of
 * polling it.
 *
 * <p>A trigger on {@code jobs} (migration V3) sends {@code NOTIFY aiq_job_changed, '<job id>'} when a
 * job's status changes, from whichever process wrote it; one connection of this process LISTENs on
 * that channel ({@link PgSubscriber}, reconnecting by itself). A notification for a job someone waits
 * for queues that job for a re-read; the queued jobs are read together, in one {@code job_id =
 * ANY($1)} query at a time, and every waiter of a job found finished is answered. So the database
 * sees about one query per burst of notifications, not one per waiter every half second.
 *
 * <p>Notifications are a shortcut, never the only way: a listener reconnecting misses those sent
 * meanwhile (after each (re)subscription every waiter is re-checked at once), and a slow sweep every
 * {@code sweepMillis} re-reads the jobs not read for that long. Each waiter is answered at its
 * deadline with its job as read then. Past {@code maxWaiters} held requests, {@link #full()} says so
 * and the caller answers at once.
 *
 * <p>A job's event stream ({@code GET /jobs/{id}/events}) holds a {@link #watch watcher} instead: it
 * is answered on any change of status from the one its stream last sent, not only the terminal one,
 * through the same notifications and re-reads.
 *
 * <p>All state is touched on the verticle's event loop only.
 */
final class JobWaiters {
  static final String CHANNEL = "aiq_job_changed";
  private static final Logger LOG = LoggerFactory.getLogger(JobWaiters.class);
  /** Ids per re-read query: a bounded array parameter, a bounded answer. */
  private static final int MAX_IDS_PER_READ = 1000;
  /** A first connection that has not listened within this long does not hold up the start. */
  private static final long START_WAIT_MS = 3000;
  private static final long RECONNECT_MAX_MS = 5000;
  /** How long a re-read waits for more jobs to read with it (the latency a notification adds, at most). */
  static final long COALESCE_MS = 10;

  private final Vertx vertx;
  private final Context context;
  private final QueryRepository repository;
  private final PgConnectOptions connectOptions;
  private final int maxWaiters;
  private final long sweepNanos;
  private final MeterRegistry registry;

  private final Map<UUID, Entry> entries = new HashMap<>();
  private final Set<UUID> toRead = new LinkedHashSet<>();
  private final AtomicInteger waiting = new AtomicInteger();
  private final AtomicInteger watching = new AtomicInteger();
  private boolean reading;
  private boolean flushScheduled;
  private boolean stopped;
  private PgSubscriber subscriber;
  private long sweepTimer = -1;

  private final Gauge waitersGauge;
  private final Gauge watchersGauge;
  private final Counter rechecks;
  private final Counter notifications;
  private final Counter finished;
  private final Counter deadline;
  private final Counter refused;
  private final Counter failed;

  /** The waiters of one job, and what the last read of it found. */
  private static final class Entry {
    final UUID jobId;
    final List<Waiter> waiters = new ArrayList<>(1);
    long lastReadNanos = System.nanoTime();
    JobView last;

    Entry(UUID jobId) {
      this.jobId = jobId;
    }
  }

  private static final class Waiter {
    final Promise<JobView> promise = Promise.promise();
    /** A watcher (a job's event stream) is answered on any change from this status; null: a Prefer: wait. */
    final JobStatus seen;
    final boolean watcher;
    long timer;
    boolean expired;

    Waiter(boolean watcher, JobStatus seen) {
      this.watcher = watcher;
      this.seen = seen;
    }

    /** Whether the job as read now answers this waiter. */
    boolean answeredBy(JobView job) {
      return expired || job.status().terminal() || (watcher && job.status() != seen);
    }
  }

  JobWaiters(Vertx vertx, Context context, QueryRepository repository, PgConnectOptions connectOptions,
             int maxWaiters, long sweepMillis, MeterRegistry registry) {
    this.vertx = vertx;
    this.context = context;
    this.repository = repository;
    this.connectOptions = connectOptions;
    this.maxWaiters = maxWaiters;
    this.sweepNanos = TimeUnit.MILLISECONDS.toNanos(sweepMillis);
    this.registry = registry;
    this.waitersGauge = Gauge.builder("aiq_job_waiters", waiting, AtomicInteger::get)
        .description("Requests held by Prefer: wait in this process").strongReference(true).register(registry);
    this.watchersGauge = Gauge.builder("aiq_job_watchers", watching, AtomicInteger::get)
        .description("Steps of job event streams (GET /jobs/{id}/events) held in this process, waiting for a change")
        .strongReference(true).register(registry);
    this.rechecks = Counter.builder("aiq_job_wait_rechecks_total")
        .description("Queries reading waited-for jobs (one per batch of notifications, deadlines and sweeps)")
        .register(registry);
    this.notifications = Counter.builder("aiq_job_wait_notifications_total")
        .description("Job status changes notified by PostgreSQL (aiq_job_changed)").register(registry);
    this.finished = outcome("finished");
    this.deadline = outcome("deadline");
    this.refused = outcome("refused");
    this.failed = outcome("failed");
  }

  private Counter outcome(String outcome) {
    return Counter.builder("aiq_job_waits_total").tag("outcome", outcome)
        .description("Prefer: wait requests by how they ended: finished (the job ended in time), deadline (answered "
            + "at its deadline), refused (over http.max-waiters, answered at once), failed")
        .register(registry);
  }

  /** Starts listening; completes when the first LISTEN is done, or after a few seconds without it. */
  Future<Void> start() {
    sweepTimer = vertx.setPeriodic(Math.max(1, TimeUnit.NANOSECONDS.toMillis(sweepNanos)), t -> sweep(false));
    Promise<Void> started = Promise.promise();
    long timer = vertx.setTimer(START_WAIT_MS, t -> {
      if (started.tryComplete()) {
        LOG.warn("not yet listening on {}: waiters are re-checked every {} ms until then", CHANNEL,
            TimeUnit.NANOSECONDS.toMillis(sweepNanos));
      }
    });
    listen(started, 0);
    return started.future().onComplete(v -> vertx.cancelTimer(timer));
  }

  private void listen(Promise<Void> started, int attempt) {
    if (stopped) {
      started.tryComplete();
      return;
    }
    PgSubscriber s = PgSubscriber.subscriber(vertx, connectOptions);
    subscriber = s;
    // a lost connection is reconnected and re-LISTENed by the subscriber itself, forever
    s.reconnectPolicy(retries -> {
      if (retries == 0) {
        LOG.warn("the connection listening on {} was lost; reconnecting (waiters are re-checked every {} ms meanwhile)",
            CHANNEL, TimeUnit.NANOSECONDS.toMillis(sweepNanos));
      }
      return backoff(retries);
    });
    s.closeHandler(v -> onContext(() -> {
      if (!stopped && subscriber == s) {
        subscriber = null;
        vertx.setTimer(backoff(0), t -> listen(Promise.promise(), 0));
      }
    }));
    s.channel(CHANNEL)
        .subscribeHandler(v -> onContext(() -> {
          LOG.debug("listening on {}", CHANNEL);
          started.tryComplete();
          // whatever was notified while not listening is lost: re-check everyone now
          sweep(true);
        }))
        .handler(payload -> onContext(() -> notified(payload)));
    s.connect().onFailure(e -> onContext(() -> {
      if (stopped || subscriber != s) {
        return;
      }
      if (attempt == 0) {
        LOG.warn("cannot LISTEN on {} ({}); retrying, waiters are re-checked every {} ms meanwhile", CHANNEL,
            e.toString(), TimeUnit.NANOSECONDS.toMillis(sweepNanos));
      }
      // a first connection that failed is not retried by the subscriber's policy: start afresh
      subscriber = null;
      s.close();
      vertx.setTimer(backoff(attempt), t -> listen(started, attempt + 1));
    }));
  }

  private static long backoff(int retries) {
    return Math.min(RECONNECT_MAX_MS, 100L << Math.min(retries, 6));
  }

  private void onContext(Runnable action) {
    if (Vertx.currentContext() == context) {
      action.run();
    } else {
      context.runOnContext(v -> action.run());
    }
  }

  /** Whether a new waiter would exceed {@code http.max-waiters}. */
  boolean full() {
    return waiting.get() >= maxWaiters;
  }

  /** Counts a request answered at once because {@link #full()}. */
  void refused() {
    refused.increment();
  }

  int size() {
    return waiting.get();
  }

  /**
   * The job once it is finished, or as it is when {@code waitMillis} are up; fails with NOT_FOUND for
   * an unknown job. The waiter is registered before its job is first read, so a change committed
   * while that read runs is never missed.
   */
  Future<JobView> await(UUID jobId, long waitMillis) {
    return hold(jobId, waitMillis, new Waiter(false, null));
  }

  /**
   * The job as soon as its status is not {@code seen} (at once when {@code seen} is null or it already
   * differs), or as it is when {@code waitMillis} are up: one step of a job's event stream. Watchers
   * are not counted against {@code http.max-waiters}: the gateway bounds its streams itself
   * ({@code jobs.max-event-streams}), and each step is held for one heartbeat interval at most.
   */
  Future<JobView> watch(UUID jobId, JobStatus seen, long waitMillis) {
    return hold(jobId, seen == null ? 0 : waitMillis, new Waiter(true, seen));
  }

  private Future<JobView> hold(UUID jobId, long waitMillis, Waiter w) {
    if (stopped) {
      return Future.failedFuture(new IllegalStateException("the query verticle is stopping"));
    }
    Entry entry = entries.computeIfAbsent(jobId, Entry::new);
    entry.waiters.add(w);
    counter(w).incrementAndGet();
    if (waitMillis <= 0) {
      w.expired = true;
    }
    w.timer = vertx.setTimer(Math.max(1, waitMillis), t -> {
      w.expired = true;
      reread(jobId);
    });
    reread(jobId);
    return w.promise.future();
  }

  private AtomicInteger counter(Waiter w) {
    return w.watcher ? watching : waiting;
  }

  private void notified(String payload) {
    notifications.increment();
    UUID jobId;
    try {
      jobId = UUID.fromString(payload.trim());
    } catch (IllegalArgumentException e) {
      LOG.debug("ignoring a notification on {} that is no job id: {}", CHANNEL, payload);
      return;
    }
    if (entries.containsKey(jobId)) {
      reread(jobId);
    }
  }

  /** Re-reads the jobs nobody read for a sweep interval (all of them when {@code everyone}). */
  private void sweep(boolean everyone) {
    long now = System.nanoTime();
    for (Entry e : entries.values()) {
      if (everyone || now - e.lastReadNanos >= sweepNanos) {
        toRead.add(e.jobId);
      }
    }
    scheduleFlush();
  }

  private void reread(UUID jobId) {
    toRead.add(jobId);
    scheduleFlush();
  }

  /**
   * Reads {@link #COALESCE_MS} later: the notifications (and new waiters) of that moment become one
   * query, so however many jobs change, the waiters issue at most one query per window, and while one
   * runs the next batch gathers.
   */
  private void scheduleFlush() {
    if (!reading && !flushScheduled && !toRead.isEmpty()) {
      flushScheduled = true;
      vertx.setTimer(COALESCE_MS, t -> {
        flushScheduled = false;
        flush();
      });
    }
  }

  private void flush() {
    if (reading || stopped) {
      return;
    }
    List<UUID> batch = new ArrayList<>(Math.min(toRead.size(), MAX_IDS_PER_READ));
    for (Iterator<UUID> it = toRead.iterator(); it.hasNext() && batch.size() < MAX_IDS_PER_READ; ) {
      UUID id = it.next();
      it.remove();
      if (entries.containsKey(id)) {
        batch.add(id);
      }
    }
    if (batch.isEmpty()) {
      return;
    }
    reading = true;
    rechecks.increment();
    Future<Map<UUID, JobView>> read;
    try {
      read = repository.jobs(batch);
    } catch (RuntimeException e) {
      read = Future.failedFuture(e);
    }
    read.onComplete(ar -> onContext(() -> {
      reading = false;
      apply(batch, ar);
      scheduleFlush();
    }));
  }

  private void apply(List<UUID> batch, AsyncResult<Map<UUID, JobView>> read) {
    long now = System.nanoTime();
    for (UUID id : batch) {
      Entry e = entries.get(id);
      if (e == null) {
        continue;
      }
      if (read.failed()) {
        // those at their deadline get the error (503); the others are read again by the next sweep
        answer(e, null, read.cause(), w -> w.expired);
        continue;
      }
      e.lastReadNanos = now;
      JobView job = read.result().get(id);
      if (job == null) {
        answer(e, null, new ApiException(ErrorCode.NOT_FOUND, "no job " + id), w -> true);
        continue;
      }
      e.last = job;
      answer(e, job, null, w -> w.answeredBy(job));
    }
  }

  /** Answers the entry's waiters that {@code due} selects with the job or the error. */
  private void answer(Entry e, JobView job, Throwable error, Predicate<Waiter> due) {
    for (Iterator<Waiter> it = e.waiters.iterator(); it.hasNext(); ) {
      Waiter w = it.next();
      if (!due.test(w)) {
        continue;
      }
      it.remove();
      counter(w).decrementAndGet();
      vertx.cancelTimer(w.timer);
      if (error != null) {
        if (!w.watcher) {
          failed.increment();
        }
        w.promise.tryFail(error);
      } else {
        if (!w.watcher) {
          (job.status().terminal() ? finished : deadline).increment();
        }
        w.promise.tryComplete(job);
      }
    }
    if (e.waiters.isEmpty()) {
      entries.remove(e.jobId);
    }
  }

  /** Stops listening and answers every waiter with its job as last read (503 when it never was). */
  Future<Void> stop() {
    stopped = true;
    vertx.cancelTimer(sweepTimer);
    for (Entry e : new ArrayList<>(entries.values())) {
      answer(e, e.last, e.last == null ? new IllegalStateException("the query verticle stopped") : null, w -> true);
    }
    toRead.clear();
    registry.remove(waitersGauge);
    registry.remove(watchersGauge);
    PgSubscriber s = subscriber;
    subscriber = null;
    return s == null ? Future.succeededFuture() : s.close().otherwise(e -> null).mapEmpty();
  }
}
