package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** {@code detector: kserve}: the pipeline asks a remote KServe server (here: another instance of ours). */
class KServeDetectorTest {

  @ParameterizedTest
  @ValueSource(strings = {"v1", "v2"})
  void the_pipeline_gets_its_detections_from_a_remote_kserve_endpoint(String protocol) {
    try (RunningApp modelServer = new RunningApp(new TestEnv(), new JsonObject().put("roles", "inference"));
         RunningApp pipeline = new RunningApp(new TestEnv(), new JsonObject().put("detector", "kserve")
             .put("kserve", new JsonObject().put("url", "http://127.0.0.1:" + modelServer.app.httpPort())
                 .put("model", "dummy").put("protocol", protocol)))) {
      JsonObject accepted = pipeline.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject();

      JsonObject job = pipeline.api.awaitJob(accepted.getString("jobId"), Duration.ofSeconds(30));

      assertThat(job.getString("status")).isEqualTo("succeeded");
      assertThat(job.getJsonObject("model").getString("name")).isEqualTo("dummy");
      assertThat(job.getInteger("objectCount")).isEqualTo(3);
      JsonObject first = pipeline.api.get("/images/" + accepted.getString("imageId") + "/objects/0").bodyAsJsonObject();
      assertThat(first.getDouble("score")).isEqualTo(0.95);
      assertThat(pipeline.api.get("/health/ready").bodyAsString()).contains("\"detector\"");
    }
  }

  @Test
  void an_unreachable_kserve_endpoint_makes_readiness_red() {
    try (RunningApp pipeline = new RunningApp(new TestEnv(), new JsonObject().put("detector", "kserve")
        .put("kserve", new JsonObject().put("url", "http://127.0.0.1:" + TestEnv.freePort()).put("model", "dummy")))) {
      assertThat(pipeline.api.get("/health/ready").statusCode()).isEqualTo(503);
    }
  }
}
