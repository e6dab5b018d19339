package io.aiq.circles.results;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.Topics;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.config.Role;
import io.aiq.circles.messaging.TopicAdmin;
import io.aiq.circles.persistence.Database;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TopicProbe;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.producer.RecordMetadata;

/**
 * The results role alone, as the inference role, the gateway and an operator see it: a Vert.x
 * instance with only the results verticles deployed, on the real test broker (its own topic prefix
 * and consumer group) and a fresh real PostgreSQL database with the service's schema. Results are
 * published as the inference role publishes them; what the role did is read back from the database,
 * the dead-letter topic and its event-bus answers. Images and jobs are rows inserted directly, as
 * the ingest role would have left them.
 */
final class ResultsTestbed implements AutoCloseable {
  static final Duration WITHIN = Duration.ofSeconds(20);

  final TestEnv env = new TestEnv();
  final Vertx vertx = Vertx.vertx();
  final AppConfig config;
  final Topics topics;
  final Pool pool;
  private final List<String> deployments = new ArrayList<>();

  ResultsTestbed(JsonObject overrides) throws Exception {
    JsonObject json = env.config();
    if (overrides != null) {
      json.mergeIn(overrides, true);
    }
    config = ConfigLoader.load(vertx, json).await(30, TimeUnit.SECONDS);
    topics = config.kafka().topics();
    Database.migrate(vertx, config.database()).await(60, TimeUnit.SECONDS);
    pool = Database.pool(vertx, config.database());
    TopicAdmin.ensureTopics(vertx, config.kafka()).await(60, TimeUnit.SECONDS);
  }

  /** The results writer: consumes the detection topics in this env's group. */
  ResultsTestbed deployConsumer() throws Exception {
    deployments.add(vertx.deployVerticle(new ResultsConsumerVerticle(config, pool, new SimpleMeterRegistry()))
        .await(60, TimeUnit.SECONDS));
    return this;
  }

  /** The query side: answers the RESULTS_* event-bus addresses. */
  ResultsTestbed deployQueries() throws Exception {
    deployments.add(vertx.deployVerticle(new ResultsQueryVerticle(pool, config.database(), config.http().maxWaiters(),
        new SimpleMeterRegistry())).await(60, TimeUnit.SECONDS));
    return this;
  }

  String group() {
    return config.kafka().group(Role.RESULTS.wire());
  }

  // ---- rows as ingest leaves them ----------------------------------------------------------------

  /** A new image id (a SHA-256 is 64 hex digits) and its image row. */
  String insertImage() throws SQLException {
    String imageId = (UUID.randomUUID().toString() + UUID.randomUUID()).replace("-", "");
    try (Connection c = connect(); PreparedStatement s = c.prepareStatement("INSERT INTO images (image_id, storage_ref,"
        + " content_type, format, width, height, size_bytes) VALUES (?, ?, 'image/png', 'png', 640, 480, 1234)")) {
      s.setString(1, imageId);
      s.setString(2, imageId.substring(0, 2) + "/" + imageId.substring(2, 4) + "/" + imageId + ".png");
      s.executeUpdate();
    }
    return imageId;
  }

  /** A job of the image, as an upload creates it: queued. */
  UUID insertQueuedJob(String imageId) throws SQLException {
    UUID jobId = UUID.randomUUID();
    try (Connection c = connect();
         PreparedStatement s = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status) VALUES (?, ?, 'queued')")) {
      s.setObject(1, jobId);
      s.setString(2, imageId);
      s.executeUpdate();
    }
    return jobId;
  }

  /** A job of the image that already succeeded with these detections (object ids 0..n-1). */
  UUID insertSucceededJob(String imageId, List<Detection> detections) throws SQLException {
    UUID jobId = UUID.randomUUID();
    try (Connection c = connect()) {
      try (PreparedStatement s = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status, model_name,"
          + " model_version, inference_ms, detection_count, started_at, finished_at)"
          + " VALUES (?, ?, 'succeeded', 'test-model', '1', 7, ?, now(), now())")) {
        s.setObject(1, jobId);
        s.setString(2, imageId);
        s.setInt(3, detections.size());
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("INSERT INTO detections (job_id, object_id, box_xmin, box_ymin,"
          + " box_xmax, box_ymax, score) VALUES (?, ?, ?, ?, ?, ?, ?)")) {
        for (int i = 0; i < detections.size(); i++) {
          BoundingBox b = detections.get(i).bbox();
          s.setObject(1, jobId);
          s.setInt(2, i);
          s.setDouble(3, b.xmin());
          s.setDouble(4, b.ymin());
          s.setDouble(5, b.xmax());
          s.setDouble(6, b.ymax());
          s.setDouble(7, detections.get(i).score());
          s.executeUpdate();
        }
      }
    }
    return jobId;
  }

  static List<Detection> detections(double... boxesAndScores) {
    List<Detection> out = new ArrayList<>();
    for (int i = 0; i < boxesAndScores.length; i += 5) {
      out.add(new Detection(new BoundingBox(boxesAndScores[i], boxesAndScores[i + 1], boxesAndScores[i + 2],
          boxesAndScores[i + 3]), boxesAndScores[i + 4]));
    }
    return out;
  }

  // ---- reading rows ----------------------------------------------------------------------------

  Connection connect() throws SQLException {
    return PostgresFixture.connect(env.databaseUrl());
  }

  List<Map<String, Object>> rows(String sql, Object param) throws SQLException {
    return PostgresFixture.rows(env.databaseUrl(), sql, param);
  }

  Map<String, Object> job(UUID jobId) throws SQLException {
    List<Map<String, Object>> found = rows("SELECT * FROM jobs WHERE job_id = ?", jobId);
    if (found.size() != 1) {
      throw new AssertionError("no job " + jobId);
    }
    return found.get(0);
  }

  List<Map<String, Object>> detectionRows(UUID jobId) throws SQLException {
    return rows("SELECT object_id, box_xmin, box_ymin, box_xmax, box_ymax, score FROM detections WHERE job_id = ?"
        + " ORDER BY object_id", jobId);
  }

  /** Polls the job's row until it matches, or fails the test with the row as it last was. */
  Map<String, Object> awaitJob(UUID jobId, Predicate<Map<String, Object>> condition) throws Exception {
    long deadline = System.nanoTime() + WITHIN.toNanos();
    Map<String, Object> row = job(jobId);
    while (!condition.test(row)) {
      if (System.nanoTime() > deadline) {
        throw new AssertionError("job " + jobId + " did not reach the expected state within " + WITHIN + ": " + row);
      }
      Thread.sleep(20);
      row = job(jobId);
    }
    return row;
  }

  // ---- the topics ------------------------------------------------------------------------------

  /** Publishes a record as another role (or anyone with access to the topic) would. */
  RecordMetadata publish(String topic, String key, String value) {
    return TopicProbe.send(topic, key, value);
  }

  /** Waits until the results writer committed past this record: it is done with it, whatever it did. */
  void awaitHandled(RecordMetadata record) {
    TopicProbe.awaitCommittedPast(group(), record.topic(), record.partition(), record.offset(), WITHIN);
  }

  // ---- the event bus ---------------------------------------------------------------------------

  Future<Message<JsonObject>> ask(String address, JsonObject query) {
    return vertx.eventBus().request(address, query);
  }

  JsonObject answer(String address, JsonObject query) throws Exception {
    return ask(address, query).await(WITHIN.toMillis(), TimeUnit.MILLISECONDS).body();
  }

  /** The error a query was answered with, as the gateway reads it; fails the test when it was answered. */
  ErrorCode.ApiFailure failureOf(String address, JsonObject query) throws Exception {
    try {
      Object ok = ask(address, query).toCompletionStage().toCompletableFuture().get(WITHIN.toMillis(),
          TimeUnit.MILLISECONDS).body();
      throw new AssertionError("expected the query to fail, it was answered " + ok);
    } catch (ExecutionException e) {
      return ErrorCode.fromFailure(e.getCause());
    }
  }

  @Override
  public void close() throws Exception {
    try {
      for (int i = deployments.size() - 1; i >= 0; i--) {
        vertx.undeploy(deployments.get(i)).await(30, TimeUnit.SECONDS);
      }
      pool.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
