package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.testing.PostgresFixture;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The results writer's statements keep a primary-key plan under a backlog, on a database whose
 * statistics were never gathered: each is prepared and run while {@code jobs} is empty (what a new
 * deployment does in its first seconds, and what caches a generic plan on every pooled connection),
 * then 30,000 queued jobs arrive with autovacuum off for the table, and the cached plan is executed.
 * The work it does is read from EXPLAIN ANALYZE: rows visited, not milliseconds. The batch statements
 * (ResultRepository.applyBatch: a polled batch's jobs as arrays, one statement per kind of event) go
 * through the same, each run as the repository runs it: in a transaction that asks for custom plans
 * ({@link Sql#BATCH_CUSTOM_PLANS}).
 */
@ExtendWith(VertxExtension.class)
class ResultWriterPlansTest {
  private static final int QUEUED = 30_000;
  private static String url;

  @BeforeAll
  static void schema(Vertx vertx) throws Exception {
    url = PostgresFixture.createDatabase();
    Database.migrate(vertx, new AppConfig.Database(url, "", "", 1, 16, 5000, true)).await(60, TimeUnit.SECONDS);
    try (Connection c = PostgresFixture.connect(url); Statement s = c.createStatement()) {
      // as on a new database before autovacuum's first visit (this machine's server runs without it)
      s.execute("ALTER TABLE jobs SET (autovacuum_enabled = false)");
      s.execute("ALTER TABLE images SET (autovacuum_enabled = false)");
    }
  }

  /** {@code batch}: one of applyBatch's, given three job ids as an array and run under BATCH_CUSTOM_PLANS. */
  private record Statement_(String name, String sql, String types, String args, boolean batch) {
    Statement_(String name, String sql, String types, String args) {
      this(name, sql, types, args, false);
    }
  }

  private static final String UNKNOWN_JOB = "'00000000-0000-4000-8000-000000000000'";
  private static final String UNKNOWN_JOBS = "ARRAY[" + UNKNOWN_JOB + ", '00000000-0000-4000-8000-000000000001',"
      + " '00000000-0000-4000-8000-000000000002']::uuid[]";
  private static final int BATCH = 3;
  private static final String THREE_TIMES = "ARRAY[now(), now(), now()]";

  @Test
  void under_30000_queued_jobs_every_status_update_one_at_a_time_or_batched_finds_its_jobs_by_primary_key() throws Exception {
    List<Statement_> writer = List.of(
        new Statement_("mark_processing", Sql.MARK_PROCESSING, "uuid, timestamptz", "now()"),
        new Statement_("mark_succeeded", Sql.MARK_SUCCEEDED, "uuid, text, text, bigint, int, timestamptz",
            "'m', '1', 5, 0, now()"),
        new Statement_("mark_failed", Sql.MARK_FAILED, "uuid, text, text, timestamptz", "'x', 'y', now()"),
        new Statement_("job_exists", Sql.JOB_EXISTS, "uuid", null),
        // DELETE /jobs/{jobId}: the same kind of conditional update, from ingest
        new Statement_("cancel_job", Sql.CANCEL_JOB, "uuid", null));
    // the results writer's batches (ResultRepository.applyBatch)
    List<Statement_> batches = List.of(
        new Statement_("batch_mark_processing", Sql.BATCH_MARK_PROCESSING, "uuid[], timestamptz[]", THREE_TIMES, true),
        new Statement_("batch_mark_succeeded", Sql.BATCH_MARK_SUCCEEDED,
            "uuid[], text[], text[], bigint[], integer[], timestamptz[], timestamptz[]",
            "ARRAY['m', 'm', 'm'], ARRAY['1', '1', '1'], ARRAY[5, 5, 5]::bigint[], ARRAY[0, 0, 0], " + THREE_TIMES
                + ", ARRAY[NULL, now(), NULL]::timestamptz[]", true),
        new Statement_("batch_mark_failed", Sql.BATCH_MARK_FAILED, "uuid[], text[], text[], timestamptz[], timestamptz[]",
            "ARRAY['x', 'x', 'x'], ARRAY['y', 'y', 'y'], " + THREE_TIMES + ", ARRAY[NULL, now(), NULL]::timestamptz[]",
            true),
        new Statement_("batch_known_or_deleted", Sql.BATCH_KNOWN_OR_DELETED, "uuid[]", null, true));
    try (Connection c = PostgresFixture.connect(url); Statement s = c.createStatement()) {
      for (Statement_ st : writer) {
        s.execute("PREPARE " + st.name() + " (" + st.types() + ") AS " + st.sql());
        // more than the 5 custom plans after which PostgreSQL settles on a generic one
        for (int i = 0; i < 8; i++) {
          s.execute("EXECUTE " + st.name() + call(UNKNOWN_JOB, st));
        }
      }
      for (Statement_ st : batches) {
        s.execute("PREPARE " + st.name() + " (" + st.types() + ") AS " + st.sql());
        for (int i = 0; i < 8; i++) {
          s.execute("BEGIN");
          s.execute(Sql.BATCH_CUSTOM_PLANS);
          s.execute("EXECUTE " + st.name() + call(UNKNOWN_JOBS, st));
          s.execute("COMMIT");
        }
      }
      s.execute("PREPARE control (uuid) AS UPDATE jobs SET updated_at = now() WHERE job_id = $1 AND status = 'queued'");
      for (int i = 0; i < 8; i++) {
        s.execute("EXECUTE control (" + UNKNOWN_JOB + ")");
      }
      fillWithQueuedJobs(s);

      for (Statement_ st : writer) {
        Plan p = plan(s, st.name(), call(UNKNOWN_JOB, st));
        assertThat(p.indexes()).as(st.name()).containsOnly("jobs_pkey");
        assertThat(p.rowsVisited()).as(st.name() + ": rows read to find one job").isLessThanOrEqualTo(1);
      }
      for (Statement_ st : batches) {
        Plan p = plan(s, st.name(), call(UNKNOWN_JOBS, st), Sql.BATCH_CUSTOM_PLANS);
        // their arrays are read by a function scan, and BATCH_KNOWN_OR_DELETED reads deleted_jobs too
        assertThat(p.jobsScans()).as(st.name() + ": how it reads jobs").isNotEmpty().containsOnly("jobs_pkey");
        assertThat(p.jobsRowsVisited()).as(st.name() + ": rows of jobs read to find " + BATCH + " jobs")
            .isLessThanOrEqualTo(BATCH);
      }

      // Whether the planner walks jobs_pending above depends on how it breaks a tie of estimates;
      // whether it can is decided by the text alone. Without the primary key and with sequential
      // scans priced out, a statement uses jobs_pending exactly when it may.
      assertThat(usableIndexes(s, "control", "(" + UNKNOWN_JOB + ")"))
          .as("a status condition that implies the partial index's predicate").contains("jobs_pending");
      for (Statement_ st : writer) {
        assertThat(usableIndexes(s, st.name(), call(UNKNOWN_JOB, st))).as(st.name()).doesNotContain("jobs_pending");
      }
      for (Statement_ st : batches) {
        assertThat(usableIndexes(s, st.name(), call(UNKNOWN_JOBS, st), Sql.BATCH_CUSTOM_PLANS)).as(st.name())
            .doesNotContain("jobs_pending");
      }
    }
  }

  /** The indexes a statement's plan uses with jobs_pkey dropped and sequential scans off (rolled back). */
  private static List<String> usableIndexes(Statement s, String name, String args) throws Exception {
    return usableIndexes(s, name, args, null);
  }

  /** The same, after {@code setUp} (a SET LOCAL) when not null. */
  private static List<String> usableIndexes(Statement s, String name, String args, String setUp) throws Exception {
    s.execute("BEGIN");
    try {
      if (setUp != null) {
        s.execute(setUp);
      }
      s.execute("ALTER TABLE jobs DROP CONSTRAINT jobs_pkey CASCADE");
      // GET /jobs's index on status (V5) serves any equality on status; without it, the question is
      // whether the partial index may be used, which is what the statements' texts decide
      s.execute("DROP INDEX IF EXISTS jobs_by_status_created");
      s.execute("SET LOCAL enable_seqscan = off");
      try (ResultSet rs = s.executeQuery("EXPLAIN (FORMAT JSON) EXECUTE " + name + args)) {
        rs.next();
        List<String> indexes = new ArrayList<>();
        walk(new JsonArray(rs.getString(1)).getJsonObject(0).getJsonObject("Plan"), indexes, new long[1],
            new ArrayList<>(), new long[1]);
        return indexes;
      }
    } finally {
      s.execute("ROLLBACK");
    }
  }

  private static String call(String jobId, Statement_ st) {
    return " (" + jobId + (st.args() == null ? "" : ", " + st.args()) + ")";
  }

  private static void fillWithQueuedJobs(Statement s) throws Exception {
    s.execute("INSERT INTO images (image_id, storage_ref, content_type, format, width, height, size_bytes) "
        + "SELECT lpad(to_hex(g), 64, '0'), 'x', 'image/jpeg', 'jpeg', 10, 10, 10 FROM generate_series(1, " + QUEUED + ") g");
    s.execute("INSERT INTO jobs (job_id, image_id, status) SELECT gen_random_uuid(), image_id, 'queued' FROM images");
  }

  /**
   * @param jobsScans how each scan of {@code jobs} reads it: its index, or its node type (a Seq Scan)
   * @param jobsRowsVisited the rows those scans read, over all their loops
   */
  private record Plan(List<String> indexes, long rowsVisited, List<String> jobsScans, long jobsRowsVisited) {
  }

  private static Plan plan(Statement s, String name, String args) throws Exception {
    return plan(s, name, args, null);
  }

  /**
   * Runs the prepared statement under EXPLAIN ANALYZE (in a transaction rolled back: nothing changes),
   * after {@code setUp} (a SET LOCAL) when not null.
   */
  private static Plan plan(Statement s, String name, String args, String setUp) throws Exception {
    s.execute("BEGIN");
    try {
      if (setUp != null) {
        s.execute(setUp);
      }
      try (ResultSet rs = s.executeQuery("EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE " + name + args)) {
        rs.next();
        JsonObject root = new JsonArray(rs.getString(1)).getJsonObject(0).getJsonObject("Plan");
        List<String> indexes = new ArrayList<>();
        long[] visited = {0};
        List<String> jobsScans = new ArrayList<>();
        long[] jobsVisited = {0};
        walk(root, indexes, visited, jobsScans, jobsVisited);
        return new Plan(indexes, visited[0], jobsScans, jobsVisited[0]);
      }
    } finally {
      s.execute("ROLLBACK");
    }
  }

  private static void walk(JsonObject node, List<String> indexes, long[] visited, List<String> jobsScans,
                           long[] jobsVisited) {
    if (node.containsKey("Index Name")) {
      indexes.add(node.getString("Index Name"));
    }
    String type = node.getString("Node Type", "");
    if (type.contains("Scan")) {
      long rows = node.getLong("Actual Rows", 0L) + node.getLong("Rows Removed by Filter", 0L);
      visited[0] += rows;
      if ("jobs".equals(node.getString("Relation Name"))) {
        jobsScans.add(node.getString("Index Name", type));
        // EXPLAIN gives a node's rows per loop: an inner scan of a nested loop runs once per array element
        jobsVisited[0] += rows * node.getLong("Actual Loops", 1L);
      }
    }
    JsonArray children = node.getJsonArray("Plans");
    if (children != null) {
      for (Object child : children) {
        walk((JsonObject) child, indexes, visited, jobsScans, jobsVisited);
      }
    }
  }
}
