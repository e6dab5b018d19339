package io.aiq.circles.persistence;

import io.aiq.circles.contracts.JobStatus;
import io.vertx.core.Future;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;

/** The reads behind the query API. */
public final class QueryRepository {
  private final Pool pool;

  public QueryRepository(Pool pool) {
    this.pool = pool;
  }

  public Future<Optional<JobView>> job(UUID jobId) {
    return pool.preparedQuery(Sql.JOB_BY_ID).execute(Tuple.of(jobId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(JobView.from(rows.iterator().next())));
  }

  /** The jobs of these ids that exist, by id, in one query (unknown ids are absent from the map). */
  public Future<Map<UUID, JobView>> jobs(Collection<UUID> jobIds) {
    return pool.preparedQuery(Sql.JOBS_BY_IDS).execute(Tuple.tuple().addArrayOfUUID(jobIds.toArray(new UUID[0]))).map(rows -> {
      Map<UUID, JobView> out = new HashMap<>(rows.size() * 2);
      for (Row r : rows) {
        JobView j = JobView.from(r);
        out.put(j.jobId(), j);
      }
      return out;
    });
  }

  public Future<Optional<ImageView>> image(String imageId) {
    return pool.preparedQuery(Sql.IMAGE_SUMMARY_BY_ID).execute(Tuple.of(imageId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(ImageView.from(rows.iterator().next())));
  }

  /** Images newest first, those inserted before {@code beforeSeq} (exclusive). */
  public Future<List<ImageView>> images(long beforeSeq, int limit) {
    return pool.preparedQuery(Sql.IMAGE_PAGE).execute(Tuple.of(beforeSeq, limit)).map(rows -> {
      List<ImageView> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(ImageView.from(r));
      }
      return out;
    });
  }

  /**
   * Jobs newest first, those before the keyset ({@code beforeCreated}, {@code beforeJobId}) exclusive,
   * of the status and/or image given (null: any).
   */
  public Future<List<JobView>> jobsPage(Instant beforeCreated, UUID beforeJobId, JobStatus status, String imageId,
                                        int limit) {
    Tuple args = Tuple.of(beforeCreated.atOffset(ZoneOffset.UTC), beforeJobId, limit);
    String sql;
    if (imageId != null && status != null) {
      sql = Sql.JOB_PAGE_BY_IMAGE_AND_STATUS;
      args.addString(imageId).addString(status.wire());
    } else if (imageId != null) {
      sql = Sql.JOB_PAGE_BY_IMAGE;
      args.addString(imageId);
    } else if (status != null) {
      sql = Sql.JOB_PAGE_BY_STATUS;
      args.addString(status.wire());
    } else {
      sql = Sql.JOB_PAGE;
    }
    return pool.preparedQuery(sql).execute(args).map(rows -> {
      List<JobView> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(JobView.from(r));
      }
      return out;
    });
  }

  public Future<List<StoredDetection>> detections(UUID jobId) {
    return pool.preparedQuery(Sql.DETECTIONS_OF_JOB).execute(Tuple.of(jobId)).map(rows -> {
      List<StoredDetection> out = new ArrayList<>(rows.size());
      for (Row r : rows) {
        out.add(StoredDetection.from(r));
      }
      return out;
    });
  }

  public Future<Optional<StoredDetection>> detection(UUID jobId, int objectId) {
    return pool.preparedQuery(Sql.DETECTION_OF_JOB).execute(Tuple.of(jobId, objectId))
        .map(rows -> rows.size() == 0 ? Optional.empty() : Optional.of(StoredDetection.from(rows.iterator().next())));
  }
}
