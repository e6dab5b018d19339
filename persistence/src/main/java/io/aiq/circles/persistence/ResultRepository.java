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
import java.util.List;
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
