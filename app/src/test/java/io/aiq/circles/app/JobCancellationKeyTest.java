package io.aiq.circles.app;

import static io.aiq.circles.app.ApiKeyTest.assertError;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestEnv;
import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.multipart.MultipartForm;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * With {@code api-keys} set, cancelling is writing: {@code DELETE /jobs/{jobId}} needs a key with the
 * upload scope, as uploads and {@code DELETE /images/{imageId}} do (401 without one, 403 with a
 * model-only key, and the job stays queued); listing jobs and following a job's events are reads,
 * open like {@code GET /jobs/{jobId}}.
 */
class JobCancellationKeyTest {
  private static final String KEY = "cancel-test-key-0123456789ab";
  private static final String MODEL_KEY = "model-only-key-0123456789ab";
  private static RunningApp sys;

  @BeforeAll
  static void start() {
    sys = new RunningApp(new TestEnv(), new JsonObject().put("roles", "gateway,ingest,queries,results")
        .put("api-keys", KEY + ", " + MODEL_KEY + ":model"));
  }

  @AfterAll
  static void stop() {
    sys.close();
  }

  private static HttpResponse<Buffer> cancel(String jobId, String key) {
    return sys.api.send(sys.api.web().delete("/jobs/" + jobId).bearerTokenAuthentication(key).send());
  }

  @Test
  void cancelling_needs_the_upload_key_and_reading_needs_none() {
    HttpResponse<Buffer> accepted = sys.api.send(sys.api.web().post("/images").bearerTokenAuthentication(KEY)
        .sendMultipartForm(MultipartForm.create().binaryFileUpload("file", "k.png",
            Buffer.buffer(TestImages.discs(64, 48, "png", 5151)), "image/png")));
    String jobId = RunningApp.acceptedJob(accepted);

    HttpResponse<Buffer> none = sys.api.request(HttpMethod.DELETE, "/jobs/" + jobId);
    assertError(none, 401, "unauthorized");
    assertThat(none.getHeader("WWW-Authenticate")).startsWith("Bearer");
    assertError(cancel(jobId, MODEL_KEY), 403, "forbidden");
    assertThat(sys.api.get("/jobs/" + jobId).bodyAsJsonObject().getString("status")).isEqualTo("queued");
    assertThat(sys.api.get("/jobs?status=queued").statusCode()).isEqualTo(200);

    HttpResponse<Buffer> cancelled = cancel(jobId, KEY);

    assertThat(cancelled.statusCode()).as(cancelled.bodyAsString()).isEqualTo(202);
    assertThat(cancelled.bodyAsJsonObject().getString("status")).isEqualTo("cancelled");
    HttpResponse<Buffer> events = sys.api.get("/jobs/" + jobId + "/events");
    assertThat(events.statusCode()).isEqualTo(200);
    assertThat(events.bodyAsString()).contains("event: status").contains("\"status\":\"cancelled\"");
  }
}
