package io.aiq.circles.contracts.events;

import com.networknt.schema.Error;
import com.networknt.schema.InputFormat;
import com.networknt.schema.Schema;
import com.networknt.schema.SchemaRegistry;
import com.networknt.schema.SchemaRegistryConfig;
import com.networknt.schema.SpecificationVersion;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The JSON Schema (draft 2020-12) of each event, by its CloudEvents type: the contract with outside
 * consumers, shipped in this jar under {@code contracts/schemas/<event>.v<N>.schema.json} and named by
 * the AsyncAPI document {@code asyncapi.yaml}.
 *
 * <p>A released schema file is never changed in a way that refuses an event it accepted: additive
 * changes (a new optional field) keep the version; a breaking change is a new file
 * {@code <event>.v<N+1>.schema.json} that still accepts version N's events, and a new {@code schemaVersion}.
 * {@code EventSchemasCompatibilityTest} holds every version to that with golden examples.
 *
 * <p>With the system property {@value #VALIDATE_PROPERTY} {@code =true} (every test run sets it), the
 * publisher checks each outgoing event here and refuses one that breaks its schema.
 */
public final class EventSchemas {
  /** The JVM system property that makes {@code EventPublisher} validate every event it sends. */
  public static final String VALIDATE_PROPERTY = "aiq.contracts.validate-events";
  /** The CloudEvents type of the webhooks role's dead letter (WebhooksVerticle.DEAD_LETTER_TYPE). */
  public static final String WEBHOOK_DELIVERY_FAILED_TYPE = "io.aiq.circles.webhook.failed";
  /** The classpath folder of the schema files. */
  public static final String FOLDER = "contracts/schemas/";

  /** Each event type's current schema file (without {@code .schema.json}): bump here with a new version. */
  private static final Map<String, String> CURRENT = Map.of(
      ImageSubmitted.TYPE, "image-submitted.v1",
      DetectionStarted.TYPE, "detection-started.v1",
      DetectionsCompleted.TYPE, "detections-completed.v1",
      DetectionFailed.TYPE, "detection-failed.v1",
      ImageDeleted.TYPE, "image-deleted.v1",
      JobCancelled.TYPE, "job-cancelled.v1",
      // the webhooks role's dead letter of a delivery given up (its value is no other event's record)
      WEBHOOK_DELIVERY_FAILED_TYPE, "webhook-delivery-failed.v1");

  private static final EventSchemas SHARED = new EventSchemas();

  // format assertions on: a jobId that is no UUID or a time that is no instant is an error, not a note
  private final SchemaRegistry registry = SchemaRegistry.withDefaultDialect(SpecificationVersion.DRAFT_2020_12,
      builder -> builder.schemaRegistryConfig(SchemaRegistryConfig.builder().formatAssertionsEnabled(true).build()));
  private final Map<String, Schema> byFile = new ConcurrentHashMap<>();

  private EventSchemas() {
  }

  /** The schemas of this jar (loaded once, on first use of each). */
  public static EventSchemas shared() {
    return SHARED;
  }

  /** Whether this JVM asked for every published event to be validated ({@value #VALIDATE_PROPERTY}). */
  public static boolean validationRequested() {
    return Boolean.getBoolean(VALIDATE_PROPERTY);
  }

  /** Event type → current schema file name (without {@code .schema.json}), e.g. {@code image-submitted.v1}. */
  public static Map<String, String> currentSchemas() {
    return CURRENT;
  }

  /** The classpath resource of a schema file name such as {@code image-submitted.v1}. */
  public static String resource(String schemaFile) {
    return FOLDER + schemaFile + ".schema.json";
  }

  /**
   * What is wrong with {@code value} as an event of {@code type} under its current schema; empty when it
   * conforms. An unknown type is a problem too: every event has a contract.
   */
  public List<String> problems(String type, JsonObject value) {
    String file = CURRENT.get(type);
    if (file == null) {
      return List.of("no JSON Schema for event type '" + type + "' (see EventSchemas)");
    }
    return problemsUnder(file, value.encode());
  }

  /** What is wrong with a JSON text under one schema file (any version, e.g. {@code image-submitted.v1}). */
  public List<String> problemsUnder(String schemaFile, String json) {
    List<Error> errors = schema(schemaFile).validate(json, InputFormat.JSON);
    return errors.stream().map(Error::toString).toList();
  }

  /** Throws {@link InvalidEventException} naming every problem when {@code value} breaks its schema. */
  public void requireValid(String type, JsonObject value) {
    List<String> problems = problems(type, value);
    if (!problems.isEmpty()) {
      throw new InvalidEventException(type + " does not conform to its JSON Schema: " + String.join("; ", problems)
          + " in " + value.encode());
    }
  }

  private Schema schema(String file) {
    return byFile.computeIfAbsent(file, f -> {
      String resource = resource(f);
      try (InputStream in = EventSchemas.class.getClassLoader().getResourceAsStream(resource)) {
        if (in == null) {
          throw new IllegalArgumentException("no schema file on the classpath: " + resource);
        }
        return registry.getSchema(in, InputFormat.JSON);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    });
  }
}
