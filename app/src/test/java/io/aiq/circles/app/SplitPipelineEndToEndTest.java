package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.ApiClient;
import io.aiq.circles.testing.S3ProxyFixture;
import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every journey of {@link PipelineEndToEndTest}, against the chart's default layout: the API process
 * (gateway, ingest, queries), inference and the results writer as three operating-system processes
 * with no clustered event bus, meeting only in Kafka, PostgreSQL and an S3 bucket (S3Proxy, a real
 * S3 server in this JVM): no shared folder, no shared volume.
 */
class SplitPipelineEndToEndTest extends PipelineEndToEndTest {
  private static SplitLayout layout;
  private static S3ProxyFixture s3;

  // hide the one-JVM start and stop of the superclass: JUnit runs these instead
  @BeforeAll
  static void start() {
    s3 = S3ProxyFixture.start();
    String bucket = s3.createBucket("split-" + java.util.UUID.randomUUID().toString().substring(0, 8));
    layout = SplitLayout.start(new TestEnv(), new JsonObject().put("store", s3.storeConfig(bucket, "e2e/")));
    api = layout.client;
    config = layout.config;
    env = layout.env;
    running = layout;
  }

  @AfterAll
  static void stop() throws Exception {
    try {
      running.close();
    } finally {
      s3.close();
    }
  }

  @Test
  void the_processes_share_no_folder_the_images_are_in_the_bucket() throws Exception {
    assertThat(layout.config.store().type()).isEqualTo("s3");
    String imageId = api.upload(TestImages.discs(64, 48, "png", 7), "discs.png", "image/png").bodyAsJsonObject().getString("imageId");
    String ref = io.aiq.circles.persistence.ImageStore.refFor(imageId, "png");

    assertThat(s3.object(layout.config.store().s3().bucket(), "e2e/" + ref)).isNotEmpty();
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.walk(env.storeRoot())) {
      assertThat(files.filter(java.nio.file.Files::isRegularFile)).as("nothing in the local image folder").isEmpty();
    } catch (java.nio.file.NoSuchFileException e) {
      // no local folder at all: nothing there either
    }
  }

  /** Each process is ready for what its own roles need, and for nothing it does not run. */
  @Override
  @Test
  void readiness_reports_kafka_postgresql_and_the_detector_up() {
    Vertx vertx = Vertx.vertx();
    try {
      JsonObject apiReady = ready(vertx, layout.api.port());
      assertThat(apiReady.encode()).contains("\"kafka\"", "\"postgresql\"").doesNotContain("\"detector\"");
      JsonObject inferenceReady = ready(vertx, layout.inference.port());
      assertThat(inferenceReady.encode()).contains("\"kafka\"", "\"detector\"").doesNotContain("\"postgresql\"");
      JsonObject resultsReady = ready(vertx, layout.results.port());
      assertThat(resultsReady.encode()).contains("\"kafka\"", "\"postgresql\"").doesNotContain("\"detector\"");
      assertThat(api.get("/health/live").statusCode()).isEqualTo(200);
    } finally {
      vertx.close();
    }
  }

  @Test
  void the_api_process_serves_the_api_and_the_other_two_only_health_and_metrics() {
    Vertx vertx = Vertx.vertx();
    try (ApiClient inference = new ApiClient(vertx, layout.inference.port());
         ApiClient results = new ApiClient(vertx, layout.results.port())) {
      assertThat(api.get("/images").statusCode()).isEqualTo(200);
      assertThat(results.get("/images").statusCode()).as("the results writer answers no queries").isEqualTo(404);
      assertThat(inference.get("/images").statusCode()).isEqualTo(404);
      assertThat(results.get("/metrics").bodyAsString()).contains("jvm_memory_used_bytes");
    } finally {
      vertx.close();
    }
  }

  private static JsonObject ready(Vertx vertx, int port) {
    try (ApiClient client = new ApiClient(vertx, port)) {
      HttpResponse<Buffer> r = client.get("/health/ready");
      assertThat(r.statusCode()).as(r.bodyAsString()).isEqualTo(200);
      return r.bodyAsJsonObject();
    }
  }
}
