package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Cancellation of jobs ({@code DELETE /jobs/{jobId}}) in two steps a crash may separate: the job's row
 * becomes {@code cancelled} and its event is recorded as still to publish, in one statement
 * ({@link Sql#CANCEL_JOB}); once the broker acknowledged the event, {@link #markPublished}. An
 * unpublished cancellation is found again by a retried DELETE or by {@link #unpublished}.
 */
public final class CancellationRepository {

  /** What a DELETE found. */
  public enum Found {
    /** This call cancelled the job. */
    CANCELLED_NOW,
    /** The job was cancelled before (the DELETE is a repeat). */
    ALREADY_CANCELLED,
    /** The job had succeeded or failed: nothing was changed. */
    FINISHED,
    NOT_FOUND
  }

  /**
   * @param job the job as it is now (null when not found)
   * @param publishPending whether its JobCancelled event is still to be published
   */
  public record Cancel(Found found, JobView job, boolean publishPending) {
  }

  /** A cancellation whose event is still to publish. */
  public record Pending(UUID jobId, String imageId, Instant cancelledAt) {
  }

  private final Pool pool;

  public CancellationRepository(Pool pool) {
    this.pool = pool;
  }

  public Future<Cancel> cancel(UUID jobId) {
    return pool.preparedQuery(Sql.CANCEL_JOB).execute(Tuple.of(jobId)).compose(rows -> {
      if (rows.size() == 1) {
        return Future.succeededFuture(new Cancel(Found.CANCELLED_NOW, JobView.from(rows.iterator().next()), true));
      }
      return pool.preparedQuery(Sql.JOB_AND_CANCELLATION).execute(Tuple.of(jobId)).map(found -> {
        if (found.size() == 0) {
          return new Cancel(Found.NOT_FOUND, null, false);
        }
        Row r = found.iterator().next();
        JobView job = JobView.from(r);
        // CANCEL_JOB's UPDATE waited for any writer of the row and re-checked it: it is finished
        return new Cancel(job.status() == JobStatus.CANCELLED ? Found.ALREADY_CANCELLED
            : Found.FINISHED, job, Boolean.TRUE.equals(r.getBoolean("cancellation_pending")));
      });
    });
  }

  /** Cancellations not published for {@code olderThanMs}, oldest first, up to {@code limit}. */
  public Future<List<Pending>> unpublished(long olderThanMs, int limit) {
    return pool.preparedQuery(Sql.UNPUBLISHED_CANCELLATIONS).execute(Tuple.of(olderThanMs, limit)).map(rows -> {
      List<Pending> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(new Pending(r.getUUID("job_id"), r.getString("image_id"), Rows.instant(r, "cancelled_at")));
      }
      return out;
    });
  }

  public Future<Void> markPublished(UUID jobId) {
    return pool.preparedQuery(Sql.CANCELLATION_PUBLISHED).execute(Tuple.of(jobId)).mapEmpty();
  }
}
