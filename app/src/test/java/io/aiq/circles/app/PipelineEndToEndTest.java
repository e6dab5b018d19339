package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.PostgresFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.aiq.circles.testing.TopicProbe;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A client's whole journey through the real pipeline (HTTP → ingest → Kafka → inference → Kafka →
 * results → PostgreSQL → HTTP) with the dummy detector: here every role in one JVM, as {@code just dev}
 * runs it; {@link SplitPipelineEndToEndTest} runs the same journey against the chart's layout of three
 * processes without a cluster.
 */
class PipelineEndToEndTest {
  /** the system under test: what it answers through, its settings, and how to stop it */
  static ApiClient api;
  static AppConfig config;
  static TestEnv env;
  static AutoCloseable running;

  @BeforeAll
  static void start() {
    RunningApp sys = RunningApp.start();
    api = sys.api;
    config = sys.app.config();
    env = sys.env;
    running = sys;
  }

  @AfterAll
  static void stop() throws Exception {
    running.close();
  }

  static long count(String sql) {
    try (Connection c = PostgresFixture.connect(env.databaseUrl()); Statement s = c.createStatement();
         ResultSet rs = s.executeQuery(sql)) {
      rs.next();
      return rs.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void an_uploaded_coin_photo_is_accepted_then_processed_and_its_circles_can_be_read() {
    HttpResponse<Buffer> upload = api.upload(TestImages.coinPhoto(), "coins.jpg", "image/jpeg");

    assertThat(upload.statusCode()).isEqualTo(202);
    JsonObject accepted = upload.bodyAsJsonObject();
    String jobId = accepted.getString("jobId");
    String imageId = accepted.getString("imageId");
    assertThat(upload.getHeader("Location")).isEqualTo("/jobs/" + jobId);
    assertThat(imageId).matches("[0-9a-f]{64}");
    assertThat(accepted.getString("status")).isIn("queued", "processing");

    JsonObject job = api.awaitJob(jobId, Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("succeeded");
    assertThat(job.getString("imageId")).isEqualTo(imageId);
    assertThat(job.getJsonObject("model").getString("name")).isEqualTo("dummy");
    assertThat(job.getInteger("objectCount")).isEqualTo(3);
    assertThat(job.getString("startedAt")).isNotNull();
    assertThat(job.getString("finishedAt")).isNotNull();
    assertThat(job.getJsonObject("error")).isNull();

    JsonObject objects = api.get("/images/" + imageId + "/objects").bodyAsJsonObject();
    JsonArray list = objects.getJsonArray("objects");
    assertThat(list).hasSize(3);
    assertThat(objects.getString("jobId")).isEqualTo(jobId);
    for (int i = 0; i < list.size(); i++) {
      JsonObject o = list.getJsonObject(i);
      assertThat(o.getInteger("object_id")).isEqualTo(i);
      assertThat(o.getJsonArray("bbox")).hasSize(4);
      assertThat(o.getDouble("score")).isBetween(0.0, 1.0);

      HttpResponse<Buffer> detailResponse = api.get("/images/" + imageId + "/objects/" + i);
      assertThat(detailResponse.statusCode()).isEqualTo(200);
      JsonObject detail = detailResponse.bodyAsJsonObject();
      JsonArray box = detail.getJsonArray("bbox");
      assertThat(box).isEqualTo(o.getJsonArray("bbox"));
      double xmin = box.getDouble(0), ymin = box.getDouble(1), xmax = box.getDouble(2), ymax = box.getDouble(3);
      assertThat(xmin).isBetween(0.0, 512.0);
      assertThat(xmax).isBetween(xmin, 512.0);
      assertThat(ymax).isBetween(ymin, 236.0);
      assertThat(detail.getJsonArray("centroid").getDouble(0)).isCloseTo((xmin + xmax) / 2, within());
      assertThat(detail.getJsonArray("centroid").getDouble(1)).isCloseTo((ymin + ymax) / 2, within());
      assertThat(detail.getDouble("radius")).isCloseTo(((xmax - xmin) + (ymax - ymin)) / 4, within());
      assertThat(detail.getDouble("score")).isBetween(0.0, 1.0);
    }

    JsonObject image = api.get("/images/" + imageId).bodyAsJsonObject();
    assertThat(image.getInteger("width")).isEqualTo(512);
    assertThat(image.getInteger("height")).isEqualTo(236);
    assertThat(image.getString("contentType")).isEqualTo("image/jpeg");
    assertThat(image.getJsonObject("latestJob").getString("status")).isEqualTo("succeeded");
    assertThat(image.getInteger("objectCount")).isEqualTo(3);
  }

  @Test
  void every_step_is_published_as_a_cloud_event_keyed_by_image_id_for_outside_consumers() {
    JsonObject accepted = api.upload(TestImages.discs(256, 128, "png", 3), "e.png", "image/png").bodyAsJsonObject();
    String jobId = accepted.getString("jobId");
    String imageId = accepted.getString("imageId");
    api.awaitJob(jobId, Duration.ofSeconds(30));
    var topics = config.kafka().topics();

    String trace = null;
    for (String[] step : new String[][] {
        {topics.imagesSubmitted(), "io.aiq.circles.image.submitted", "/aiq-circles/ingest"},
        {topics.detectionsStarted(), "io.aiq.circles.detection.started", "/aiq-circles/inference"},
        {topics.detectionsCompleted(), "io.aiq.circles.detections.completed", "/aiq-circles/inference"}}) {
      var record = TopicProbe.await(step[0], 1, r -> r.value().contains(jobId), Duration.ofSeconds(10)).get(0);
      assertThat(record.key()).isEqualTo(imageId);
      assertThat(TopicProbe.header(record, "ce_type")).isEqualTo(step[1]);
      assertThat(TopicProbe.header(record, "ce_source")).isEqualTo(step[2]);
      assertThat(TopicProbe.header(record, "ce_specversion")).isEqualTo("1.0");
      assertThat(TopicProbe.header(record, "ce_id")).isNotBlank();
      assertThat(TopicProbe.header(record, "ce_time")).isNotBlank();
      assertThat(new JsonObject(record.value()).getInteger("schemaVersion")).isEqualTo(1);
      String traceId = TopicProbe.header(record, "traceparent").split("-")[1];
      assertThat(trace == null || trace.equals(traceId)).as("one trace across the pipeline").isTrue();
      trace = traceId;
    }
  }

  @Test
  void a_raw_image_body_is_accepted_like_a_form_upload() {
    byte[] png = TestImages.discs(320, 200, "png", 11);
    HttpResponse<Buffer> upload = api.uploadRaw(png, "image/png");

    assertThat(upload.statusCode()).isEqualTo(202);
    JsonObject job = api.awaitJob(upload.bodyAsJsonObject().getString("jobId"), Duration.ofSeconds(30));
    assertThat(job.getString("status")).isEqualTo("succeeded");
    JsonObject image = api.get("/images/" + job.getString("imageId")).bodyAsJsonObject();
    assertThat(image.getString("format")).isEqualTo("png");
    assertThat(image.getInteger("width")).isEqualTo(320);
  }

  @Test
  void bmp_images_are_accepted() {
    HttpResponse<Buffer> upload = api.upload(TestImages.discs(100, 80, "bmp", 12), "x.bmp", "image/bmp");
    assertThat(upload.statusCode()).isEqualTo(202);
    assertThat(api.awaitJob(upload.bodyAsJsonObject().getString("jobId"), Duration.ofSeconds(30))
        .getString("status")).isEqualTo("succeeded");
  }

  @Test
  void the_same_bytes_uploaded_again_answer_409_with_the_existing_image_and_job_and_run_no_second_inference() {
    byte[] bytes = TestImages.discs(300, 300, "png", 21);
    JsonObject first = api.upload(bytes, "a.png", "image/png").bodyAsJsonObject();
    api.awaitJob(first.getString("jobId"), Duration.ofSeconds(30));

    HttpResponse<Buffer> again = api.upload(bytes, "renamed.png", "image/png");

    assertThat(again.statusCode()).isEqualTo(409);
    JsonObject body = again.bodyAsJsonObject();
    assertThat(body.getJsonObject("error").getString("code")).isEqualTo("duplicate_image");
    assertThat(body.getString("imageId")).isEqualTo(first.getString("imageId"));
    assertThat(body.getString("jobId")).isEqualTo(first.getString("jobId"));
    assertThat(body.getString("status")).isEqualTo("succeeded");
    assertThat(again.getHeader("Location")).isEqualTo("/jobs/" + first.getString("jobId"));
    assertThat(count("SELECT count(*) FROM jobs WHERE image_id = '" + first.getString("imageId") + "'")).isEqualTo(1);
  }

  @Test
  void reprocess_true_runs_a_new_job_for_a_known_image() {
    byte[] bytes = TestImages.discs(300, 200, "png", 22);
    JsonObject first = api.upload(bytes, "a.png", "image/png").bodyAsJsonObject();
    api.awaitJob(first.getString("jobId"), Duration.ofSeconds(30));

    HttpResponse<Buffer> again = api.uploadTo("/images?reprocess=true", bytes, "a.png", "image/png", null);

    assertThat(again.statusCode()).isEqualTo(202);
    String secondJob = again.bodyAsJsonObject().getString("jobId");
    assertThat(secondJob).isNotEqualTo(first.getString("jobId"));
    assertThat(again.bodyAsJsonObject().getString("imageId")).isEqualTo(first.getString("imageId"));
    assertThat(api.awaitJob(secondJob, Duration.ofSeconds(30)).getString("status")).isEqualTo("succeeded");
    JsonObject image = api.get("/images/" + first.getString("imageId")).bodyAsJsonObject();
    assertThat(image.getLong("jobCount")).isEqualTo(2);
    assertThat(image.getJsonObject("latestJob").getString("jobId")).isEqualTo(secondJob);
    assertThat(api.get("/images/" + first.getString("imageId") + "/objects").bodyAsJsonObject()
        .getString("jobId")).isEqualTo(secondJob);
  }

  @Test
  void prefer_wait_on_the_upload_answers_with_the_finished_job() {
    HttpResponse<Buffer> r = api.uploadTo("/images", TestImages.discs(200, 200, "png", 31), "w.png",
        "image/png", "wait=20");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.getHeader("Preference-Applied")).isEqualTo("wait=20");
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("succeeded");
    assertThat(r.bodyAsJsonObject().getInteger("objectCount")).isEqualTo(3);
  }

  @Test
  void prefer_wait_on_the_job_query_holds_the_answer_until_the_job_is_finished() {
    JsonObject accepted = api.upload(TestImages.discs(210, 200, "png", 32), "w.png", "image/png").bodyAsJsonObject();

    HttpResponse<Buffer> r = api.get("/jobs/" + accepted.getString("jobId"), "wait=20");

    assertThat(r.statusCode()).isEqualTo(200);
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("succeeded");
  }

  @Test
  void an_image_whose_pixels_cannot_be_decoded_ends_in_a_failed_job_with_a_reason() {
    HttpResponse<Buffer> upload = api.upload(TestImages.pngWithGarbagePixels(), "g.png", "image/png");
    assertThat(upload.statusCode()).isEqualTo(202);

    JsonObject job = api.awaitJob(upload.bodyAsJsonObject().getString("jobId"), Duration.ofSeconds(30));

    assertThat(job.getString("status")).isEqualTo("failed");
    assertThat(job.getJsonObject("error").getString("code")).isEqualTo("corrupt_image");
    assertThat(job.getJsonObject("error").getString("message")).isNotBlank();
    JsonObject objects = api.get("/images/" + job.getString("imageId") + "/objects").bodyAsJsonObject();
    assertThat(objects.getJsonArray("objects")).isEmpty();
    assertThat(objects.getString("status")).isEqualTo("failed");
    var dead = io.aiq.circles.testing.TopicProbe.await(config.kafka().topics().deadLetter(), 1,
        r -> r.value().contains(job.getString("jobId")), Duration.ofSeconds(30)).get(0);
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_reason")).isEqualTo("corrupt_image");
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_topic"))
        .isEqualTo(config.kafka().topics().imagesSubmitted());
    assertThat(io.aiq.circles.testing.TopicProbe.header(dead, "aiq_dlq_offset")).isNotBlank();
  }

  @Test
  void images_are_listed_newest_first_with_a_cursor_over_pages() {
    for (int i = 0; i < 3; i++) {
      assertThat(api.upload(TestImages.discs(64 + i, 64, "png", 40 + i), "p.png", "image/png").statusCode())
          .isEqualTo(202);
    }
    JsonObject page1 = api.get("/images?limit=2").bodyAsJsonObject();
    assertThat(page1.getJsonArray("items")).hasSize(2);
    String cursor = page1.getString("nextCursor");
    assertThat(cursor).isNotNull();
    JsonObject page2 = api.get("/images?limit=2&cursor=" + cursor).bodyAsJsonObject();
    assertThat(page2.getJsonArray("items")).isNotEmpty();

    String newest = page1.getJsonArray("items").getJsonObject(0).getString("createdAt");
    String older = page2.getJsonArray("items").getJsonObject(0).getString("createdAt");
    assertThat(newest.compareTo(older)).isGreaterThanOrEqualTo(0);
    assertThat(page2.getJsonArray("items").getJsonObject(0).getString("imageId"))
        .isNotIn(page1.getJsonArray("items").getJsonObject(0).getString("imageId"),
            page1.getJsonArray("items").getJsonObject(1).getString("imageId"));
  }

  @Test
  void readiness_reports_kafka_postgresql_and_the_detector_up() {
    HttpResponse<Buffer> r = api.get("/health/ready");

    assertThat(r.statusCode()).isEqualTo(200);
    String body = r.bodyAsString();
    assertThat(body).contains("\"kafka\"", "\"postgresql\"", "\"detector\"");
    assertThat(r.bodyAsJsonObject().getString("status")).isEqualTo("UP");
    assertThat(api.get("/health/live").statusCode()).isEqualTo(200);
  }

  @Test
  void metrics_are_served_in_the_prometheus_format_with_upload_and_pipeline_counters() {
    api.upload(TestImages.discs(90, 90, "png", 51), "m.png", "image/png");

    String metrics = api.get("/metrics").bodyAsString();

    assertThat(metrics).contains("aiq_uploads_total", "vertx_http_server_requests_total", "jvm_memory_used_bytes");
  }

  private static org.assertj.core.data.Offset<Double> within() {
    return org.assertj.core.data.Offset.offset(1e-9);
  }
}
