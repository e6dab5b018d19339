package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.RowSet;
import io.vertx.sqlclient.SqlConnection;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;

/**
 * Deletion of images, on request and by retention, in three steps that a crash may separate
 * (see {@link Sql#DELETE_IMAGES}): the rows in one transaction, recorded as a {@link Deletion}; the
 * blob ({@link #removeBlob}); the event, after which the deletion is {@link #markPublished}. An
 * unfinished deletion is found again by a retried DELETE ({@link #deleteRequested}) or the sweep
 * ({@link #unfinished}).
 */
public final class DeletionRepository {

  /** A recorded deletion: the image's rows are gone; the blob and the event may still be to do. */
  public record Deletion(UUID deletionId, String imageId, String storageRef, String reason, List<UUID> jobIds,
                         Instant deletedAt, boolean blobDeleted, boolean published) {
  }

  /** What a DELETE found. */
  public enum Found {
    /** The image's rows are deleted (now, or by an earlier request); {@code toFinish} is what is left. */
    DELETED,
    /** No such image, and no deletion of it left to finish. */
    NOT_FOUND,
    /** A job of the image is queued or processing: nothing was deleted. */
    IN_FLIGHT
  }

  /**
   * @param deletedNow whether this call deleted the rows (rather than finding an earlier deletion)
   * @param toFinish the deletions of the image whose blob or event is still to do, oldest first
   */
  public record Requested(Found found, boolean deletedNow, List<Deletion> toFinish) {
  }

  private final Pool pool;

  public DeletionRepository(Pool pool) {
    this.pool = pool;
  }

  /**
   * Deletes the image's rows unless one of its jobs is in flight. Waits for a transaction holding the
   * image (an upload adding a job to it), then decides on what that committed.
   */
  public Future<Requested> deleteRequested(String imageId, String reason) {
    String[] ids = {imageId};
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.LOCK_IMAGES).execute(Tuple.of(ids))
            .compose(locked -> {
              if (locked.size() == 0) {
                return Future.succeededFuture(Found.NOT_FOUND);
              }
              return conn.preparedQuery(Sql.IMAGES_IN_FLIGHT).execute(Tuple.of(ids)).compose(busy -> busy.size() > 0
                  ? Future.succeededFuture(Found.IN_FLIGHT)
                  : conn.preparedQuery(Sql.DELETE_IMAGES).execute(Tuple.of(ids, reason)).map(Found.DELETED));
            }))
        .compose(found -> found == Found.IN_FLIGHT
            ? Future.succeededFuture(new Requested(Found.IN_FLIGHT, false, List.of()))
            : pool.preparedQuery(Sql.UNFINISHED_DELETIONS_OF_IMAGE).execute(Tuple.of(imageId)).map(rows -> {
              List<Deletion> left = deletions(rows);
              if (found == Found.NOT_FOUND && left.isEmpty()) {
                return new Requested(Found.NOT_FOUND, false, left);
              }
              return new Requested(Found.DELETED, found == Found.DELETED, left);
            }));
  }

  /**
   * Retention: deletes the rows of up to {@code limit} images uploaded more than {@code days} days ago
   * that have no job in flight, in one transaction. Images another sweep holds are skipped.
   */
  public Future<List<Deletion>> deleteExpired(int days, int limit) {
    return pool.withTransaction(conn -> conn.preparedQuery(Sql.CLAIM_EXPIRED_IMAGES).execute(Tuple.of(days, limit))
        .compose(claimed -> {
          List<String> ids = new ArrayList<>(claimed.size());
          claimed.forEach(r -> ids.add(r.getString("image_id")));
          if (ids.isEmpty()) {
            return Future.succeededFuture(List.<Deletion>of());
          }
          return idle(conn, ids).compose(idle -> idle.length == 0 ? Future.succeededFuture(List.<Deletion>of())
              : conn.preparedQuery(Sql.DELETE_IMAGES).execute(Tuple.of(idle, "retention"))
                  .map(DeletionRepository::deletions));
        }));
  }

  /** Of the locked images, those without a job in flight (a job added before the lock was taken). */
  private static Future<String[]> idle(SqlConnection conn, List<String> ids) {
    String[] all = ids.toArray(String[]::new);
    return conn.preparedQuery(Sql.IMAGES_IN_FLIGHT).execute(Tuple.of((Object) all)).map(busy -> {
      Set<String> inFlight = new HashSet<>();
      busy.forEach(r -> inFlight.add(r.getString("image_id")));
      return Arrays.stream(all).filter(id -> !inFlight.contains(id)).toArray(String[]::new);
    });
  }

  /** Deletions left unfinished for more than {@code olderThanMs}, oldest first. */
  public Future<List<Deletion>> unfinished(long olderThanMs, int limit) {
    return pool.preparedQuery(Sql.UNFINISHED_DELETIONS).execute(Tuple.of(olderThanMs, limit))
        .map(DeletionRepository::deletions);
  }

  /**
   * The blob step of a deletion, holding its row: removes the blob with {@code deleteBlob} unless it is
   * removed already, or the image was uploaded again since (the blob is the new upload's then), and
   * records it. A failure of the store rolls back, leaving the step to do. Completes with false when
   * {@code wait} is off and another process holds the deletion (it is finishing it), or the deletion
   * is gone.
   */
  public Future<Boolean> removeBlob(UUID deletionId, boolean wait, Function<String, Future<Void>> deleteBlob) {
    return pool.withTransaction(conn -> conn.preparedQuery(wait ? Sql.LOCK_DELETION : Sql.TRY_LOCK_DELETION)
        .execute(Tuple.of(deletionId))
        .compose(rows -> {
          if (rows.size() == 0) {
            return Future.succeededFuture(false);
          }
          Row d = rows.iterator().next();
          if (d.getBoolean("blob_deleted")) {
            return Future.succeededFuture(true);
          }
          return conn.preparedQuery(Sql.IMAGE_EXISTS).execute(Tuple.of(d.getString("image_id")))
              .compose(again -> again.size() > 0 ? Future.<Void>succeededFuture() : deleteBlob.apply(d.getString("storage_ref")))
              .compose(v -> conn.preparedQuery(Sql.BLOB_DELETED).execute(Tuple.of(deletionId)))
              .map(true);
        }));
  }

  /** The deletion's event was acknowledged: it is finished. */
  public Future<Void> markPublished(UUID deletionId) {
    return pool.preparedQuery(Sql.PUBLISHED).execute(Tuple.of(deletionId)).mapEmpty();
  }

  /** Forgets finished deletions and deleted jobs older than {@code days} days. */
  public Future<Void> prune(int days) {
    return pool.preparedQuery(Sql.PRUNE_DELETIONS).execute(Tuple.of(days))
        .compose(v -> pool.preparedQuery(Sql.PRUNE_DELETED_JOBS).execute(Tuple.of(days))).mapEmpty();
  }

  private static List<Deletion> deletions(RowSet<Row> rows) {
    List<Deletion> out = new ArrayList<>(rows.size());
    for (Row r : rows) {
      UUID[] jobs = r.getArrayOfUUIDs("job_ids");
      out.add(new Deletion(r.getUUID("deletion_id"), r.getString("image_id"), r.getString("storage_ref"),
          r.getString("reason"), jobs == null ? List.of() : List.of(jobs), Rows.instant(r, "deleted_at"),
          r.getBoolean("blob_deleted"), r.getBoolean("published")));
    }
    return out;
  }
}
