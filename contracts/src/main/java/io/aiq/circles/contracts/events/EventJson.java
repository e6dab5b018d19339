package io.aiq.circles.contracts.events;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/** Strict reading of event JSON: a missing or mistyped field is an {@link InvalidEventException}. */
final class EventJson {
  static final int SCHEMA_VERSION = 1;

  private EventJson() {
  }

  static JsonObject parse(Buffer raw, String type) {
    if (raw == null) {
      throw new InvalidEventException(type + ": empty record value");
    }
    JsonObject json;
    try {
      json = raw.toJsonObject();
    } catch (DecodeException | ClassCastException e) {
      throw new InvalidEventException(type + ": value is not a JSON object", e);
    }
    Object version = json.getValue("schemaVersion");
    if (!(version instanceof Number n) || n.intValue() != SCHEMA_VERSION) {
      throw new InvalidEventException(type + ": unsupported schemaVersion " + version);
    }
    return json;
  }

  static JsonObject base() {
    return new JsonObject().put("schemaVersion", SCHEMA_VERSION);
  }

  static String string(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof String s) || s.isBlank()) {
      throw new InvalidEventException("field '" + field + "' is missing or not a string");
    }
    return s;
  }

  static long number(JsonObject json, String field) {
    Object v = json.getValue(field);
    if (!(v instanceof Number n)) {
      throw new InvalidEventException("field '" + field + "' is missing or not a number");
    }
    return n.longValue();
  }

  static Instant instant(JsonObject json, String field) {
    try {
      return Instant.parse(string(json, field));
    } catch (DateTimeParseException e) {
      throw new InvalidEventException("field '" + field + "' is not an ISO-8601 instant", e);
    }
  }
}
