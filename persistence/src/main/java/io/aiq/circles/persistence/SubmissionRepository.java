package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/** The ingest side of the schema: images and the jobs that ask for their inference. */
public final class SubmissionRepository {
  private final Pool pool;

  public SubmissionRepository(Pool pool) {
    this.pool = pool;
  }

  /**
   * Records an upload in one transaction. A new image gets a queued job; a known image returns its
   * latest job, or a new one when {@code reprocess} is asked. Two concurrent uploads of the same bytes
   * serialise on the image's primary key, so exactly one of them creates the job. An upload that
   * races a deletion of the same bytes waits for the deletion's transaction and then creates the image
   * anew, flagged {@link Submission#restoreBlob()}.
   */
  public Future<Submission> submit(NewImage image, boolean reprocess) {
    return submit(image, reprocess, null);
  }

  /**
   * {@link #submit(NewImage, boolean)}, with a webhook to call when the job it creates is finished. A
   * known image answered with its existing job (no reprocess) gets no webhook: that job is not this
   * upload's.
   */
  public Future<Submission> submit(NewImage image, boolean reprocess, String callbackUrl) {
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.INSERT_IMAGE)
        .execute(Tuple.of(image.imageId(), image.storageRef(), image.contentType(), image.format(),
            image.width(), image.height(), image.sizeBytes()))
        .compose(inserted -> {
          boolean duplicate = inserted.rowCount() == 0;
          if (!duplicate) {
            // a new row: its job, and whether this id was deleted before (see Sql.INSERT_NEW_IMAGE_JOB)
            return newImageJob(conn, image, callbackUrl);
          }
          if (reprocess) {
            return newJob(conn, image.imageId(), true, callbackUrl);
          }
          return latestJob(conn, image.imageId())
              .compose(latest -> latest != null ? Future.succeededFuture(latest) : newJob(conn, image.imageId(), true, callbackUrl));
        }));
  }

  /**
   * The job of an image this transaction just inserted. Its stored fields are the ones inserted, so
   * they are not read back: BEGIN, the image, this, COMMIT are the upload's four round trips.
   */
  private Future<Submission> newImageJob(SqlConnection conn, NewImage image, String callbackUrl) {
    UUID jobId = UUID.randomUUID();
    return conn.preparedQuery(Sql.INSERT_NEW_IMAGE_JOB).execute(Tuple.of(jobId, image.imageId(), callbackUrl))
        .map(rows -> {
          Row row = rows.iterator().next();
          return new Submission(row.getUUID("job_id"), row.getString("image_id"),
              JobStatus.fromWire(row.getString("status")), true, false, image.storageRef(), image.contentType(),
              image.width(), image.height(), Rows.instant(row, "created_at"), row.getLong("deletions") > 0);
        });
  }

  private Future<Submission> newJob(SqlConnection conn, String imageId, boolean duplicate, String callbackUrl) {
    UUID jobId = UUID.randomUUID();
    return conn.preparedQuery(Sql.INSERT_JOB).execute(Tuple.of(jobId, imageId, callbackUrl))
        .compose(rows -> jobWithImage(conn, jobId))
        .map(s -> new Submission(s.jobId(), s.imageId(), s.status(), true, duplicate, s.storageRef(),
            s.contentType(), s.width(), s.height(), s.submittedAt()));
  }

  private Future<Submission> jobWithImage(SqlConnection conn, UUID jobId) {
    return conn.preparedQuery(Sql.JOB_AND_IMAGE).execute(Tuple.of(jobId))
        .map(rows -> toSubmission(rows.iterator().next(), false, false));
  }

  private Future<Submission> latestJob(SqlConnection conn, String imageId) {
    return conn.preparedQuery(Sql.LATEST_JOB_OF_IMAGE).execute(Tuple.of(imageId))
        .map(rows -> rows.size() == 0 ? null : toSubmission(rows.iterator().next(), false, true));
  }

  private static Submission toSubmission(Row row, boolean newJob, boolean duplicate) {
    return new Submission(row.getUUID("job_id"), row.getString("image_id"),
        JobStatus.fromWire(row.getString("status")), newJob, duplicate, row.getString("storage_ref"),
        row.getString("content_type"), row.getInteger("width"), row.getInteger("height"),
        Rows.instant(row, "created_at"));
  }

  /**
   * Claims up to {@code limit} jobs whose ImageSubmitted seems lost (queued or processing past its
   * timeout): each is counted one more submission to republish, or, once submitted
   * {@code maxSubmissions} times, marked to give up on.
   */
  public Future<List<StuckJob>> claimStuckJobs(long queuedTimeoutMs, long processingTimeoutMs, int limit,
                                              int maxSubmissions) {
    return pool.preparedQuery(Sql.CLAIM_STUCK_JOBS)
        .execute(Tuple.of(queuedTimeoutMs, processingTimeoutMs, limit, maxSubmissions))
        .map(SubmissionRepository::stuckJobs);
  }

  /**
   * Takes back one counted submission of a job whose event the broker did not acknowledge, so that
   * a broker outage does not use up the sweeper's attempts ({@code sweeper.max-submissions}).
   */
  public Future<Void> uncountSubmission(UUID jobId) {
    return pool.preparedQuery(Sql.UNCOUNT_SUBMISSION).execute(Tuple.of(jobId)).mapEmpty();
  }

  private static List<StuckJob> stuckJobs(RowSet<Row> rows) {
    List<StuckJob> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      out.add(new StuckJob(r.getUUID("job_id"), r.getString("image_id"), JobStatus.fromWire(r.getString("status")),
          r.getInteger("submissions"), Rows.instant(r, "created_at"), r.getString("storage_ref"),
          r.getString("content_type"), r.getInteger("width"), r.getInteger("height"), r.getBoolean("give_up")));
    }
    return out;
  }
}
