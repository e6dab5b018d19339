package io.aiq.circles.app;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.testing.TestImages;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The OpenAPI document served at /openapi.yaml describes the API that runs: every documented GET
 * route answers, for a valid request, a documented success status with the fields its schema
 * requires, and for invalid ids a documented error status; and every route the gateway serves is
 * documented.
 */
class OpenApiConformanceTest {
  private static RunningApp sys;
  private static JsonObject spec;
  private static String imageId;
  private static String jobId;

  @BeforeAll
  static void start() {
    sys = RunningApp.start();
    HttpResponse<Buffer> doc = sys.api.get("/openapi.yaml");
    assertThat(doc.statusCode()).isEqualTo(200);
    Map<String, Object> yaml = new Yaml().load(doc.bodyAsString());
    spec = new JsonObject(yaml);
    JsonObject accepted = sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").bodyAsJsonObject();
    imageId = accepted.getString("imageId");
    jobId = accepted.getString("jobId");
    sys.api.awaitJob(jobId, Duration.ofSeconds(30));
  }

  @AfterAll
  static void stop() throws Exception {
    sys.close();
  }

  @Test
  void the_document_is_openapi_3_1_and_lists_the_api_of_the_design() {
    assertThat(spec.getString("openapi")).isEqualTo("3.1.0");
    assertThat(spec.getJsonObject("paths").fieldNames()).contains("/images", "/images/{imageId}",
        "/images/{imageId}/objects", "/images/{imageId}/objects/{objectId}", "/jobs/{jobId}", "/health/live",
        "/health/ready", "/metrics");
    assertThat(spec.getJsonObject("paths").getJsonObject("/images").fieldNames()).contains("get", "post");
  }

  @Test
  void every_documented_get_answers_a_documented_success_with_its_required_fields() {
    List<String> checked = new ArrayList<>();
    for (String path : spec.getJsonObject("paths").fieldNames()) {
      JsonObject op = spec.getJsonObject("paths").getJsonObject(path).getJsonObject("get");
      if (op == null) {
        continue;
      }
      String url = path.replace("{imageId}", imageId).replace("{jobId}", jobId).replace("{objectId}", "0")
          .replace("{name}", "dummy")
          .replace("{schemaFile}", "detections-completed.v1.schema.json");
      HttpResponse<Buffer> r = sys.api.get(url);
      JsonObject responses = op.getJsonObject("responses");
      assertThat(responses.fieldNames()).as("documented statuses of GET " + path).contains(String.valueOf(r.statusCode()));
      assertThat(r.statusCode()).as("GET " + url + ": " + r.bodyAsString()).isEqualTo(200);
      JsonObject schema = jsonSchemaOf(responses.getJsonObject("200"));
      if (schema != null) {
        JsonArray required = resolve(schema).getJsonArray("required", new JsonArray());
        for (Object field : required) {
          assertThat(r.bodyAsJsonObject().containsKey((String) field)).as("GET " + path + " has '" + field + "'").isTrue();
        }
      }
      checked.add(path);
    }
    assertThat(checked).hasSizeGreaterThanOrEqualTo(9);
  }

  @Test
  void documented_error_statuses_are_the_ones_answered_for_bad_ids() {
    assertDocumented("/jobs/{jobId}", "get", sys.api.get("/jobs/" + UUID.randomUUID()).statusCode(), 404);
    assertDocumented("/jobs/{jobId}", "get", sys.api.get("/jobs/nope").statusCode(), 400);
    assertDocumented("/images/{imageId}", "get", sys.api.get("/images/" + "0".repeat(64)).statusCode(), 404);
    assertDocumented("/images/{imageId}/objects/{objectId}", "get",
        sys.api.get("/images/" + imageId + "/objects/999").statusCode(), 404);
  }

  @Test
  void documented_upload_statuses_are_the_ones_answered() {
    assertDocumented("/images", "post", sys.api.upload(TestImages.discs(77, 77, "png", 7), "n.png", "image/png").statusCode(), 202);
    assertDocumented("/images", "post", sys.api.upload(TestImages.coinPhoto(), "c.jpg", "image/jpeg").statusCode(), 409);
    assertDocumented("/images", "post", sys.api.upload(TestImages.text(), "t.jpg", "image/jpeg").statusCode(), 415);
    assertDocumented("/images", "post", sys.api.upload(TestImages.pngWithBadCrc(), "b.png", "image/png").statusCode(), 422);
  }

  @Test
  void swagger_ui_is_served_at_docs_without_any_external_resource() {
    HttpResponse<Buffer> page = sys.api.get("/docs/");
    assertThat(page.statusCode()).isEqualTo(200);
    assertThat(page.bodyAsString()).contains("/openapi.yaml").doesNotContain("http://", "https://");
    assertThat(sys.api.get("/docs/ui/swagger-ui-bundle.js").statusCode()).isEqualTo(200);
    assertThat(sys.api.get("/docs/ui/swagger-ui.css").statusCode()).isEqualTo(200);
  }

  private static void assertDocumented(String path, String method, int actual, int expected) {
    assertThat(actual).isEqualTo(expected);
    assertThat(spec.getJsonObject("paths").getJsonObject(path).getJsonObject(method).getJsonObject("responses")
        .fieldNames()).as(method + " " + path).contains(String.valueOf(actual));
  }

  private static JsonObject jsonSchemaOf(JsonObject response) {
    JsonObject r = resolve(response);
    JsonObject content = r.getJsonObject("content");
    if (content == null || content.getJsonObject("application/json") == null) {
      return null;
    }
    return content.getJsonObject("application/json").getJsonObject("schema");
  }

  private static JsonObject resolve(JsonObject node) {
    String ref = node.getString("$ref");
    if (ref == null) {
      return node;
    }
    JsonObject target = spec;
    for (String part : ref.substring(2).split("/")) {
      target = target.getJsonObject(part);
    }
    return resolve(target);
  }
}
