package io.aiq.circles.ingest;

import static io.aiq.circles.contracts.EventBusAddresses.INGEST_SUBMIT;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.contracts.UploadBytesCodec;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.contracts.messages.Submission;
import io.aiq.circles.contracts.messages.SubmitImage;
import io.aiq.circles.messaging.TopicAdmin;
import io.aiq.circles.persistence.Database;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.testing.TopicProbe;
import io.aiq.circles.testing.KafkaFixture;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.eventbus.Message;
import io.vertx.core.json.JsonObject;
import io.vertx.sqlclient.Pool;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;

/**
 * The ingest role alone, as a gateway and a downstream consumer see it: a Vert.x instance with only
 * {@link IngestVerticle} deployed, on the real test broker (its own topic prefix) and a fresh real
 * PostgreSQL database with the service's schema. Uploads are sent on the event bus as the gateway
 * sends them; what ingest did is read back from the database, the image store and the topics.
 */
final class IngestTestbed implements AutoCloseable {
  static final long SEND_TIMEOUT_MS = 20_000;
  private static final AtomicInteger IMAGES = new AtomicInteger();

  final TestEnv env = new TestEnv();
  final Vertx vertx = Vertx.vertx();
  final Pool pool;
  /** The meters of the verticles this testbed deploys. */
  final SimpleMeterRegistry registry = new SimpleMeterRegistry();
  private final List<String> deployments = new ArrayList<>();

  /** The database migrated, the pool open; with {@code createTopics} the env's topics exist. */
  IngestTestbed(boolean createTopics) throws Exception {
    UploadBytesCodec.register(vertx.eventBus());
    AppConfig base = config(null);
    Database.migrate(vertx, base.database()).await(60, TimeUnit.SECONDS);
    pool = Database.pool(vertx, base.database());
    if (createTopics) {
      TopicAdmin.ensureTopics(vertx, base.kafka()).await(60, TimeUnit.SECONDS);
    }
  }

  /** The env's configuration (real broker, this database and store) with these overrides on top. */
  AppConfig config(JsonObject overrides) throws Exception {
    JsonObject json = env.config();
    if (overrides != null) {
      json.mergeIn(overrides, true);
    }
    return ConfigLoader.load(vertx, json).await(30, TimeUnit.SECONDS);
  }

  /** Deploys an {@link IngestVerticle} with this configuration; returns its deployment id. */
  String deploy(AppConfig config) throws Exception {
    String id = vertx.deployVerticle(new IngestVerticle(config, pool, registry))
        .await(30, TimeUnit.SECONDS);
    deployments.add(id);
    return id;
  }

  void undeploy(String id) throws Exception {
    deployments.remove(id);
    vertx.undeploy(id).await(30, TimeUnit.SECONDS);
  }

  // ---- uploads ---------------------------------------------------------------------------------

  /** A PNG no other test of this JVM uploads, with the id and sizes the gateway would send. */
  static SubmitImage newImage(boolean reprocess) {
    int n = IMAGES.incrementAndGet();
    int width = 40 + n;
    int height = 30 + n % 7;
    byte[] bytes = TestImages.discs(width, height, "png", n);
    return new SubmitImage(sha256(bytes), "png", "image/png", width, height, reprocess, Buffer.buffer(bytes));
  }

  static SubmitImage again(SubmitImage image, boolean reprocess) {
    return new SubmitImage(image.imageId(), image.format(), image.contentType(), image.width(), image.height(),
        reprocess, image.bytes());
  }

  /** Sends the upload as the gateway does. */
  Future<Message<Object>> send(SubmitImage image) {
    return vertx.eventBus().request(INGEST_SUBMIT, image.bytes(), image.options(SEND_TIMEOUT_MS));
  }

  /** The reply to an upload; fails the test when ingest refused it. */
  Submission submit(SubmitImage image) throws Exception {
    return Submission.fromJson((JsonObject) send(image).await(SEND_TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS).body());
  }

  /** The error an upload was answered with, as the gateway reads it; fails the test when it was accepted. */
  static ErrorCode.ApiFailure failureOf(Future<?> reply) throws Exception {
    try {
      Object ok = reply.toCompletionStage().toCompletableFuture().get(SEND_TIMEOUT_MS + 5000, TimeUnit.MILLISECONDS);
      throw new AssertionError("expected the upload to be refused, it was answered " + ok);
    } catch (ExecutionException e) {
      return ErrorCode.fromFailure(e.getCause());
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  // ---- the database ----------------------------------------------------------------------------

  Connection connect() throws SQLException {
    return PostgresFixture.connect(env.databaseUrl());
  }

  /** The rows of a query with one parameter, each as column name → value. */
  List<Map<String, Object>> rows(String sql, Object param) throws SQLException {
    return PostgresFixture.rows(env.databaseUrl(), sql, param);
  }

  List<Map<String, Object>> jobsOf(String imageId) throws SQLException {
    return rows("SELECT * FROM jobs WHERE image_id = ? ORDER BY created_at", imageId);
  }

  Map<String, Object> job(UUID jobId) throws SQLException {
    List<Map<String, Object>> found = rows("SELECT * FROM jobs WHERE job_id = ?", jobId);
    if (found.size() != 1) {
      throw new AssertionError("no job " + jobId);
    }
    return found.get(0);
  }

  /**
   * What an earlier process left behind: an image row and a job row, the job last touched
   * {@code ageMs} ago and submitted {@code submissions} times, with no event on any topic.
   */
  UUID insertJob(SubmitImage image, String status, int submissions, long ageMs) throws SQLException {
    UUID jobId = UUID.randomUUID();
    try (Connection c = connect()) {
      try (PreparedStatement s = c.prepareStatement("INSERT INTO images (image_id, storage_ref, content_type, format,"
          + " width, height, size_bytes) VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING")) {
        s.setString(1, image.imageId());
        s.setString(2, ImageStore.refFor(image.imageId(), image.format()));
        s.setString(3, image.contentType());
        s.setString(4, image.format());
        s.setInt(5, image.width());
        s.setInt(6, image.height());
        s.setLong(7, image.bytes().length());
        s.executeUpdate();
      }
      try (PreparedStatement s = c.prepareStatement("INSERT INTO jobs (job_id, image_id, status, submissions,"
          + " created_at, updated_at) VALUES (?, ?, ?, ?, now() - ? * interval '1 millisecond',"
          + " now() - ? * interval '1 millisecond')")) {
        s.setObject(1, jobId);
        s.setString(2, image.imageId());
        s.setString(3, status);
        s.setInt(4, submissions);
        s.setLong(5, ageMs);
        s.setLong(6, ageMs);
        s.executeUpdate();
      }
    }
    return jobId;
  }

  // ---- the topics ------------------------------------------------------------------------------

  /**
   * Every record on the topic now, read from the start to the end offsets of this moment. Ingest
   * answers only after the broker acknowledged its event, so what an answered upload published is
   * already here: an event missing now was never published.
   */
  static List<ConsumerRecord<String, String>> recordsNow(String topic) {
    return TopicProbe.recordsNow(topic, Duration.ofSeconds(15));
  }


  /** The records on the topic now whose value names this job. */
  static List<ConsumerRecord<String, String>> recordsOfJob(String topic, Object jobId) {
    return recordsNow(topic).stream().filter(r -> new JsonObject(r.value()).getString("jobId", "")
        .equals(jobId.toString())).toList();
  }

  @Override
  public void close() throws Exception {
    try {
      for (String id : new ArrayList<>(deployments)) {
        undeploy(id);
      }
      pool.close().await(10, TimeUnit.SECONDS);
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }
}
