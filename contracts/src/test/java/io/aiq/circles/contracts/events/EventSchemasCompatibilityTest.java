package io.aiq.circles.contracts.events;

import static org.assertj.core.api.Assertions.assertThat;

import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaLocation;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SpecificationVersion;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.lang.reflect.Method;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

/**
 * Each schema version can read the events of the versions before it, and a released schema file is never
 * edited so that it refuses what it once accepted.
 *
 * <p>The golden examples under {@code src/test/resources/contracts/examples/<event>/v<N>/} are events as
 * writers of version N wrote them: add examples, never edit or remove them. Every schema file
 * {@code <event>.v<N>.schema.json} must accept every example of versions 1..N, and the current Java reader
 * ({@code fromJson}) must read every example of every version.
 */
class EventSchemasCompatibilityTest {
  private static final Path SCHEMAS = Path.of("src/main/resources", EventSchemas.FOLDER);
  private static final Path EXAMPLES = Path.of("src/test/resources/contracts/examples");
  private static final Pattern SCHEMA_FILE = Pattern.compile("([a-z-]+)\\.v(\\d+)\\.schema\\.json");

  /** The current reader of each event, by the schema files' event name. */
  private static final Map<String, Function<Buffer, Object>> READERS = Map.of(
      "image-submitted", ImageSubmitted::fromJson,
      "detection-started", DetectionStarted::fromJson,
      "detections-completed", DetectionsCompleted::fromJson,
      "detection-failed", DetectionFailed::fromJson,
      "image-deleted", ImageDeleted::fromJson,
      "job-cancelled", JobCancelled::fromJson,
      // no Java record: the webhooks role writes it as JSON, and consumers read it so; the reader of this
      // test is what every version's reader must at least do, find the job it is about
      "webhook-delivery-failed", raw -> java.util.UUID.fromString(raw.toJsonObject().getString("jobId")));

  /** event name → versions that have a schema file */
  private static Map<String, List<Integer>> versions() throws IOException {
    Map<String, List<Integer>> out = new TreeMap<>();
    try (Stream<Path> files = Files.list(SCHEMAS)) {
      for (Path f : files.toList()) {
        Matcher m = SCHEMA_FILE.matcher(f.getFileName().toString());
        assertThat(m.matches()).as("schema file name <event>.v<N>.schema.json: " + f).isTrue();
        out.computeIfAbsent(m.group(1), k -> new ArrayList<>()).add(Integer.parseInt(m.group(2)));
      }
    }
    out.values().forEach(v -> v.sort(null));
    return out;
  }

  private static List<Path> examples(String event, int version) throws IOException {
    Path dir = EXAMPLES.resolve(event).resolve("v" + version);
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files.filter(p -> p.toString().endsWith(".json")).sorted().toList();
    }
  }

  @Test
  void every_event_type_has_a_current_schema_file_and_every_schema_file_an_event_type() throws IOException {
    Map<String, List<Integer>> versions = versions();
    assertThat(versions.keySet()).containsExactlyInAnyOrderElementsOf(READERS.keySet());
    EventSchemas.currentSchemas().forEach((type, file) -> {
      String event = file.substring(0, file.indexOf(".v"));
      int version = Integer.parseInt(file.substring(file.indexOf(".v") + 2));
      assertThat(versions.get(event)).as(type + " is at the newest version of its schema").last().isEqualTo(version);
    });
    assertThat(EventSchemas.currentSchemas()).hasSameSizeAs(READERS);
  }

  @Test
  void a_schema_names_its_cloud_events_type_and_that_type_is_the_java_events() throws Exception {
    Map<String, String> javaTypes = Map.of(
        "image-submitted", ImageSubmitted.TYPE, "detection-started", DetectionStarted.TYPE,
        "detections-completed", DetectionsCompleted.TYPE, "detection-failed", DetectionFailed.TYPE,
        "image-deleted", ImageDeleted.TYPE, "job-cancelled", JobCancelled.TYPE,
        "webhook-delivery-failed", EventSchemas.WEBHOOK_DELIVERY_FAILED_TYPE);
    for (Map.Entry<String, String> current : EventSchemas.currentSchemas().entrySet()) {
      JsonObject schema = new JsonObject(Files.readString(SCHEMAS.resolve(current.getValue() + ".schema.json")));
      String event = current.getValue().substring(0, current.getValue().indexOf(".v"));
      assertThat(schema.getString("x-aiq-ce-type")).isEqualTo(current.getKey()).isEqualTo(javaTypes.get(event));
      assertThat(schema.getString("$schema")).isEqualTo("https://json-schema.org/draft/2020-12/schema");
    }
  }

  @Test
  void every_schema_file_is_a_valid_draft_2020_12_schema() throws IOException {
    Schema meta = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12)
        .getSchema(SchemaLocation.of("https://json-schema.org/draft/2020-12/schema"));
    try (Stream<Path> files = Files.list(SCHEMAS)) {
      for (Path f : files.toList()) {
        assertThat(meta.validate(Files.readString(f), InputFormat.JSON)).as(f.toString()).isEmpty();
      }
    }
  }

  @Test
  void every_schema_version_has_golden_examples() throws IOException {
    for (Map.Entry<String, List<Integer>> e : versions().entrySet()) {
      for (int v : e.getValue()) {
        assertThat(examples(e.getKey(), v)).as("examples of " + e.getKey() + " v" + v).isNotEmpty();
      }
    }
  }

  @Test
  void every_schema_version_accepts_the_examples_of_its_own_and_every_earlier_version() throws IOException {
    List<String> checked = new ArrayList<>();
    for (Map.Entry<String, List<Integer>> e : versions().entrySet()) {
      for (int schemaVersion : e.getValue()) {
        String file = e.getKey() + ".v" + schemaVersion;
        for (int exampleVersion = 1; exampleVersion <= schemaVersion; exampleVersion++) {
          for (Path example : examples(e.getKey(), exampleVersion)) {
            assertThat(EventSchemas.shared().problemsUnder(file, Files.readString(example)))
                .as(file + " accepts " + example).isEmpty();
            checked.add(file + " <- " + example);
          }
        }
      }
    }
    assertThat(checked).hasSizeGreaterThanOrEqualTo(READERS.size());
  }

  @Test
  void an_incompatible_edit_of_a_released_schema_is_caught_by_its_golden_examples() throws IOException {
    // what a careless edit of detections-completed.v1 would do: a new field made required in place
    JsonObject edited = new JsonObject(Files.readString(SCHEMAS.resolve("detections-completed.v1.schema.json")));
    edited.getJsonArray("required").add("gpuMillis");
    Schema stricter = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12).getSchema(edited.encode());

    for (Path example : examples("detections-completed", 1)) {
      assertThat(stricter.validate(Files.readString(example), InputFormat.JSON)).as(example.toString()).isNotEmpty();
    }
  }

  @Test
  void the_current_java_readers_read_every_example_of_every_version() throws IOException {
    for (Map.Entry<String, List<Integer>> e : versions().entrySet()) {
      for (int v : e.getValue()) {
        for (Path example : examples(e.getKey(), v)) {
          Object event = READERS.get(e.getKey()).apply(Buffer.buffer(Files.readString(example)));
          assertThat(event).as(example.toString()).isNotNull();
        }
      }
    }
  }

  @Test
  void what_the_current_writers_write_from_any_example_conforms_to_the_current_schema() throws Exception {
    for (Map.Entry<String, String> current : EventSchemas.currentSchemas().entrySet()) {
      String event = current.getValue().substring(0, current.getValue().indexOf(".v"));
      for (int v : versions().get(event)) {
        for (Path example : examples(event, v)) {
          Object read = READERS.get(event).apply(Buffer.buffer(Files.readString(example)));
          if (read instanceof java.util.UUID) {
            continue; // no Java writer to hold to it (webhook-delivery-failed)
          }
          Method toJson = read.getClass().getMethod("toJson");
          JsonObject written = (JsonObject) toJson.invoke(read);
          assertThat(EventSchemas.shared().problems(current.getKey(), written)).as("rewritten " + example).isEmpty();
        }
      }
    }
  }
}
