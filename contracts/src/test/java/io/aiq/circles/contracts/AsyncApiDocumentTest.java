package io.aiq.circles.contracts;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.aiq.circles.contracts.events.EventSchemas;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.yaml.snakeyaml.Yaml;

/**
 * The AsyncAPI document ({@code asyncapi.yaml} in this jar, served at {@code /asyncapi.yaml}) is the
 * contract of every topic: a topic added to {@link Topics} without a channel here fails the build, and so
 * does a reference to a schema or component that does not exist.
 */
class AsyncApiDocumentTest {
  private static JsonObject doc;

  @BeforeAll
  static void load() throws IOException {
    try (InputStream in = AsyncApiDocumentTest.class.getClassLoader().getResourceAsStream("asyncapi.yaml")) {
      assertThat(in).as("asyncapi.yaml on the classpath").isNotNull();
      Map<String, Object> yaml = new Yaml().load(in);
      doc = new JsonObject(yaml);
    }
  }

  private static List<String> addresses() {
    List<String> out = new ArrayList<>();
    JsonObject channels = doc.getJsonObject("channels");
    channels.fieldNames().forEach(c -> out.add(channels.getJsonObject(c).getString("address")));
    return out;
  }

  /** Every {@code $ref} in the document, wherever it is. */
  private static List<String> refs(Object node, List<String> into) {
    if (node instanceof JsonObject o) {
      o.forEach(e -> {
        if (e.getKey().equals("$ref")) {
          into.add((String) e.getValue());
        } else {
          refs(e.getValue(), into);
        }
      });
    } else if (node instanceof JsonArray a) {
      a.forEach(v -> refs(v, into));
    } else if (node instanceof Map<?, ?> || node instanceof List<?>) {
      refs(node instanceof Map<?, ?> ? JsonObject.mapFrom(node) : new JsonArray((List<?>) node), into);
    }
    return into;
  }

  @Test
  void the_document_is_asyncapi_3_0() {
    assertThat(doc.getString("asyncapi")).startsWith("3.0.");
    assertThat(doc.getJsonObject("info").getString("title")).isNotBlank();
    assertThat(doc.getString("defaultContentType")).isEqualTo("application/json");
  }

  /**
   * Valid against the AsyncAPI 3.0.0 specification's own JSON Schema ({@code asyncapi/asyncapi-3.0.0.schema.json}
   * in the test resources: {@code schemas/3.0.0-without-$id.json} of the npm package {@code @asyncapi/specs}
   * 6.11.1, Apache-2.0), so tools that read AsyncAPI (generators, studio, validators) read this one.
   */
  @Test
  void the_document_conforms_to_the_asyncapi_3_0_0_schema() throws IOException {
    SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_7);
    try (InputStream spec = getClass().getClassLoader().getResourceAsStream("asyncapi/asyncapi-3.0.0.schema.json")) {
      Schema schema = registry.getSchema(spec, InputFormat.JSON);
      List<com.networknt.schema.Error> errors = schema.validate(doc.encode(), InputFormat.JSON);
      assertThat(errors).extracting(Object::toString).isEmpty();
    }
  }

  @Test
  void every_topic_has_a_channel_whose_address_is_its_name_and_every_channel_is_a_topic() {
    assertThat(addresses()).containsExactlyInAnyOrderElementsOf(Topics.withPrefix("").all());
  }

  @Test
  void every_channel_has_a_sender_and_messages() {
    JsonObject channels = doc.getJsonObject("channels");
    Set<String> sent = new HashSet<>();
    JsonObject ops = doc.getJsonObject("operations");
    for (String op : ops.fieldNames()) {
      JsonObject o = ops.getJsonObject(op);
      assertThat(o.getString("action")).as(op).isIn("send", "receive");
      if (o.getString("action").equals("send")) {
        sent.add(o.getJsonObject("channel").getString("$ref"));
      }
    }
    for (String c : channels.fieldNames()) {
      assertThat(channels.getJsonObject(c).getJsonObject("messages")).as(c + " messages").isNotEmpty();
      assertThat(sent).as("an operation sends on " + c).contains("#/channels/" + c);
    }
  }

  @Test
  void every_local_reference_resolves_in_the_document() {
    for (String ref : refs(doc, new ArrayList<>())) {
      if (!ref.startsWith("#/")) {
        continue;
      }
      Object node = doc;
      for (String part : ref.substring(2).split("/")) {
        assertThat(node).as(ref).isInstanceOf(JsonObject.class);
        node = ((JsonObject) node).getValue(part);
      }
      assertThat(node).as(ref + " resolves").isNotNull();
    }
  }

  @Test
  void every_referenced_schema_file_exists_and_every_current_event_schema_is_referenced() {
    List<String> files = refs(doc, new ArrayList<>()).stream().filter(r -> !r.startsWith("#")).toList();
    for (String file : files) {
      assertThat(getClass().getClassLoader().getResource(file)).as("schema file " + file + " beside asyncapi.yaml")
          .isNotNull();
    }
    EventSchemas.currentSchemas().values()
        .forEach(current -> assertThat(files).contains(EventSchemas.resource(current)));
  }

  @Test
  void the_documented_ce_types_are_the_event_types_that_have_schemas() {
    JsonArray types = doc.getJsonObject("components").getJsonObject("schemas").getJsonObject("CloudEventHeaders")
        .getJsonObject("properties").getJsonObject("ce_type").getJsonArray("enum");
    assertThat(types.getList()).containsExactlyInAnyOrderElementsOf(EventSchemas.currentSchemas().keySet());
  }

  @Test
  void the_headers_name_the_cloud_events_attributes_the_trace_and_the_dead_letter_reasons() {
    JsonObject schemas = doc.getJsonObject("components").getJsonObject("schemas");
    assertThat(schemas.getJsonObject("CloudEventHeaders").getJsonArray("required").getList())
        .contains("ce_id", "ce_type", "ce_source", "ce_time", "traceparent");
    assertThat(schemas.getJsonObject("DeadLetterHeaders").getJsonObject("properties").fieldNames())
        .contains("aiq_dlq_reason", "aiq_dlq_message", "aiq_dlq_topic", "aiq_dlq_partition", "aiq_dlq_offset",
            "aiq_dlq_consumer_group", "aiq_dlq_attempts");
  }
}
