package io.aiq.circles.persistence;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.contracts.events.DetectionStarted;
import io.aiq.circles.contracts.events.DetectionsCompleted;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/**
 * The results side: applies detection events to jobs. Every write is idempotent, so a redelivered
 * event changes nothing: the status only moves forward, the first terminal status wins, and
 * detections are written only by the transaction that made the job succeed.
 */
public final class ResultRepository {

  /** What applying an event did. */
  public enum Outcome {
    /** The job moved. */
    APPLIED,
    /** The job was already there (or further): a redelivery, nothing changed. */
    UNCHANGED,
    /** No such job: the event is for a job this database never saw. */
    UNKNOWN_JOB,
    /**
     * The job was deleted with its image (DELETE /images/{id} or retention) before its result came:
     * nothing to write, and nothing wrong with the event either.
     */
    DELETED_JOB
  }

  private final Pool pool;

  public ResultRepository(Pool pool) {
    this.pool = pool;
  }

  public Future<Outcome> started(DetectionStarted event) {
    UUID jobId = UUID.fromString(event.jobId());
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.MARK_PROCESSING)
        .execute(Tuple.of(jobId, utc(event.startedAt())))
        .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture(Outcome.APPLIED) : unchangedOrUnknown(conn, jobId)));
  }

  /** Marks the job succeeded and stores its detections, in one transaction. */
  public Future<Outcome> completed(DetectionsCompleted event) {
    UUID jobId = UUID.fromString(event.jobId());
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.MARK_SUCCEEDED)
        .execute(Tuple.of(jobId, event.modelName(), event.modelVersion(), event.inferenceMillis(),
            event.detections().size(), utc(event.completedAt())))
        .compose(rows -> {
          if (rows.rowCount() == 0) {
            return unchangedOrUnknown(conn, jobId);
          }
          if (event.detections().isEmpty()) {
            return Future.succeededFuture(Outcome.APPLIED);
          }
          List<Tuple> batch = new ArrayList<>(event.detections().size());
          int objectId = 0;
          for (Detection d : event.detections()) {
            batch.add(Tuple.of(jobId, objectId++, d.bbox().xmin(), d.bbox().ymin(), d.bbox().xmax(),
                d.bbox().ymax(), d.score()));
          }
          return conn.preparedQuery(Sql.INSERT_DETECTION).executeBatch(batch).map(Outcome.APPLIED);
        }));
  }

  public Future<Outcome> failed(DetectionFailed event) {
    UUID jobId = UUID.fromString(event.jobId());
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.MARK_FAILED)
        .execute(Tuple.of(jobId, event.reason(), event.message(), utc(event.failedAt())))
        .compose(rows -> rows.rowCount() == 1 ? Future.succeededFuture(Outcome.APPLIED) : unchangedOrUnknown(conn, jobId)));
  }

  /**
   * Whether {@link #applyBatch} takes these events: DetectionStarted, DetectionsCompleted and
   * DetectionFailed only, and no job with two events of the same kind, nor with both a completion
   * and a failure (which of them came first then matters; one at a time decides it). A job id that
   * is not a UUID is for one at a time to refuse, too.
   */
  public static boolean batchable(List<?> events) {
    try {
      return distinctJobs(events);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }

  private static boolean distinctJobs(List<?> events) {
    Set<UUID> started = new HashSet<>();
    Set<UUID> finished = new HashSet<>();
    for (Object e : events) {
      boolean fresh;
      if (e instanceof DetectionStarted s) {
        fresh = started.add(UUID.fromString(s.jobId()));
      } else if (e instanceof DetectionsCompleted c) {
        fresh = finished.add(UUID.fromString(c.jobId()));
      } else if (e instanceof DetectionFailed f) {
        fresh = finished.add(UUID.fromString(f.jobId()));
      } else {
        return false;
      }
      if (!fresh) {
        return false;
      }
    }
    return true;
  }

  /**
   * Applies a polled batch of events in one transaction, one statement per kind of event with the
   * rows as arrays, instead of a transaction per event (issue 17: a drain's database time was mostly
   * per-statement and per-commit overhead). The outcome of each event, in order, is the one applying
   * them one at a time gives, but for one thing: a DetectionStarted whose job finishes in the same
   * batch is folded into the finishing update (its start time kept), so the row is written once, and
   * both events are {@link Outcome#APPLIED} when that update moved the job; one behind its job's
   * finish in the batch changes nothing, as one at a time (the job is finished by then). Only for
   * {@link #batchable} batches.
   */
  public Future<List<Outcome>> applyBatch(List<?> events) {
    if (!batchable(events)) {
      throw new IllegalArgumentException("not a batch applyBatch takes (see batchable)");
    }
    int n = events.size();
    UUID[] jobOf = new UUID[n];
    Map<UUID, OffsetDateTime> startedAt = new HashMap<>();
    Map<UUID, Integer> finishing = new HashMap<>();
    for (int i = 0; i < n; i++) {
      Object e = events.get(i);
      if (!(e instanceof DetectionStarted)) {
        jobOf[i] = UUID.fromString(e instanceof DetectionsCompleted c ? c.jobId() : ((DetectionFailed) e).jobId());
        finishing.put(jobOf[i], i);
      }
    }
    // A start behind its job's finish in the batch (a job the sweeper republished, run twice: one run's
    // result, then the other run's start) finds the job finished when applied one at a time: it changes
    // nothing, so it is not folded (the job would have started after it finished) and is not applied.
    boolean[] lateStart = new boolean[n];
    for (int i = 0; i < n; i++) {
      if (events.get(i) instanceof DetectionStarted s) {
        jobOf[i] = UUID.fromString(s.jobId());
        Integer finish = finishing.get(jobOf[i]);
        if (finish != null && finish < i) {
          lateStart[i] = true;
        } else {
          startedAt.put(jobOf[i], utc(s.startedAt()));
        }
      }
    }
    List<UUID> startIds = new ArrayList<>();
    List<OffsetDateTime> startTimes = new ArrayList<>();
    List<DetectionsCompleted> completed = new ArrayList<>();
    List<DetectionFailed> failed = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Object e = events.get(i);
      if (e instanceof DetectionStarted && !finishing.containsKey(jobOf[i])) {
        startIds.add(jobOf[i]);
        startTimes.add(startedAt.get(jobOf[i]));
      } else if (e instanceof DetectionsCompleted c) {
        completed.add(c);
      } else if (e instanceof DetectionFailed f) {
        failed.add(f);
      }
    }
    Set<UUID> moved = new HashSet<>();
    return pool.withTransaction(conn -> conn.query(Sql.BATCH_CUSTOM_PLANS).execute()
        .compose(v -> startIds.isEmpty() ? Future.succeededFuture() : conn.preparedQuery(Sql.BATCH_MARK_PROCESSING)
            .execute(Tuple.tuple().addValue(startIds.toArray(UUID[]::new))
                .addValue(startTimes.toArray(OffsetDateTime[]::new)))
            .map(rows -> collect(rows, moved)))
        .compose(v -> completed.isEmpty() ? Future.succeededFuture() : markSucceeded(conn, completed, startedAt, moved))
        .compose(v -> failed.isEmpty() ? Future.succeededFuture() : markFailed(conn, failed, startedAt, moved))
        .compose(v -> classify(conn, jobOf, moved)))
        .map(unmoved -> {
          List<Outcome> outcomes = new ArrayList<>(n);
          for (int i = 0; i < n; i++) {
            UUID job = jobOf[i];
            if (lateStart[i]) {
              // behind a finish that moved the job, or one that found it finished, unknown or deleted
              outcomes.add(moved.contains(job) ? Outcome.UNCHANGED : unmoved.get(job));
            } else {
              outcomes.add(moved.contains(job) ? Outcome.APPLIED : unmoved.get(job));
            }
          }
          return outcomes;
        });
  }

  private static Future<Void> markSucceeded(SqlConnection conn, List<DetectionsCompleted> completed,
                                            Map<UUID, OffsetDateTime> startedAt, Set<UUID> moved) {
    int n = completed.size();
    UUID[] ids = new UUID[n];
    String[] names = new String[n];
    String[] versions = new String[n];
    Long[] millis = new Long[n];
    Integer[] counts = new Integer[n];
    OffsetDateTime[] finished = new OffsetDateTime[n];
    OffsetDateTime[] started = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      DetectionsCompleted c = completed.get(i);
      ids[i] = UUID.fromString(c.jobId());
      names[i] = c.modelName();
      versions[i] = c.modelVersion();
      millis[i] = c.inferenceMillis();
      counts[i] = c.detections().size();
      finished[i] = utc(c.completedAt());
      started[i] = startedAt.get(ids[i]);
    }
    return conn.preparedQuery(Sql.BATCH_MARK_SUCCEEDED)
        .execute(Tuple.tuple().addValue(ids).addValue(names).addValue(versions).addValue(millis).addValue(counts)
            .addValue(finished).addValue(started))
        .compose(rows -> {
          Set<UUID> finishedNow = new HashSet<>();
          collect(rows, finishedNow);
          moved.addAll(finishedNow);
          // detections only for the jobs this transaction finished: a repeat adds none
          List<UUID> job = new ArrayList<>();
          List<Integer> object = new ArrayList<>();
          List<Double> xmin = new ArrayList<>();
          List<Double> ymin = new ArrayList<>();
          List<Double> xmax = new ArrayList<>();
          List<Double> ymax = new ArrayList<>();
          List<Double> score = new ArrayList<>();
          for (DetectionsCompleted c : completed) {
            UUID id = UUID.fromString(c.jobId());
            if (!finishedNow.contains(id)) {
              continue;
            }
            int objectId = 0;
            for (Detection d : c.detections()) {
              job.add(id);
              object.add(objectId++);
              xmin.add(d.bbox().xmin());
              ymin.add(d.bbox().ymin());
              xmax.add(d.bbox().xmax());
              ymax.add(d.bbox().ymax());
              score.add(d.score());
            }
          }
          if (job.isEmpty()) {
            return Future.succeededFuture();
          }
          return conn.preparedQuery(Sql.BATCH_INSERT_DETECTIONS)
              .execute(Tuple.tuple().addValue(job.toArray(UUID[]::new)).addValue(object.toArray(Integer[]::new))
                  .addValue(xmin.toArray(Double[]::new)).addValue(ymin.toArray(Double[]::new))
                  .addValue(xmax.toArray(Double[]::new)).addValue(ymax.toArray(Double[]::new))
                  .addValue(score.toArray(Double[]::new)))
              .mapEmpty();
        });
  }

  private static Future<Void> markFailed(SqlConnection conn, List<DetectionFailed> failed,
                                         Map<UUID, OffsetDateTime> startedAt, Set<UUID> moved) {
    int n = failed.size();
    UUID[] ids = new UUID[n];
    String[] codes = new String[n];
    String[] messages = new String[n];
    OffsetDateTime[] finished = new OffsetDateTime[n];
    OffsetDateTime[] started = new OffsetDateTime[n];
    for (int i = 0; i < n; i++) {
      DetectionFailed f = failed.get(i);
      ids[i] = UUID.fromString(f.jobId());
      codes[i] = f.reason();
      messages[i] = f.message();
      finished[i] = utc(f.failedAt());
      started[i] = startedAt.get(ids[i]);
    }
    return conn.preparedQuery(Sql.BATCH_MARK_FAILED)
        .execute(Tuple.tuple().addValue(ids).addValue(codes).addValue(messages).addValue(finished).addValue(started))
        .map(rows -> collect(rows, moved));
  }

  /** The outcome of every job the batch did not move: a redelivery, a deleted job, or an unknown one. */
  private static Future<Map<UUID, Outcome>> classify(SqlConnection conn, UUID[] jobs, Set<UUID> moved) {
    Set<UUID> unmoved = new HashSet<>();
    for (UUID job : jobs) {
      if (!moved.contains(job)) {
        unmoved.add(job);
      }
    }
    if (unmoved.isEmpty()) {
      return Future.succeededFuture(Map.of());
    }
    return conn.preparedQuery(Sql.BATCH_KNOWN_OR_DELETED).execute(Tuple.tuple().addValue(unmoved.toArray(UUID[]::new)))
        .map(rows -> {
          Map<UUID, Outcome> out = new HashMap<>();
          for (io.vertx.sqlclient.Row r : rows) {
            out.put(r.getUUID("job_id"), r.getBoolean("known") ? Outcome.UNCHANGED
                : r.getBoolean("deleted") ? Outcome.DELETED_JOB : Outcome.UNKNOWN_JOB);
          }
          return out;
        });
  }

  private static Void collect(io.vertx.sqlclient.RowSet<io.vertx.sqlclient.Row> rows, Set<UUID> into) {
    for (io.vertx.sqlclient.Row r : rows) {
      into.add(r.getUUID("job_id"));
    }
    return null;
  }

  private static Future<Outcome> unchangedOrUnknown(SqlConnection conn, UUID jobId) {
    return conn.preparedQuery(Sql.JOB_EXISTS).execute(Tuple.of(jobId))
        .compose(rows -> rows.size() > 0 ? Future.succeededFuture(Outcome.UNCHANGED)
            : conn.preparedQuery(Sql.JOB_DELETED).execute(Tuple.of(jobId))
                .map(deleted -> deleted.size() > 0 ? Outcome.DELETED_JOB : Outcome.UNKNOWN_JOB));
  }

  private static OffsetDateTime utc(java.time.Instant t) {
    return t.atOffset(ZoneOffset.UTC);
  }
}
