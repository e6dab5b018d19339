package io.aiq.circles.charts;

import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.yaml.snakeyaml.Yaml;

/** Compares values.yaml with values.schema.json key by key, wherever the schema lists its keys. */
final class SchemaCoverage {
  private SchemaCoverage() {
  }

  private static JsonObject values() throws IOException {
    Map<String, Object> yaml = new Yaml().load(Files.readString(Rendered.CHART.resolve("values.yaml")));
    return new JsonObject(yaml);
  }

  private static JsonObject schema() throws IOException {
    return new JsonObject(Files.readString(Rendered.CHART.resolve("values.schema.json")));
  }

  /** Keys of values.yaml under a schema object that closes its properties but does not list this one. */
  static List<String> undescribed() throws IOException {
    List<String> out = new ArrayList<>();
    compare(values(), schema(), "", out, true);
    return out;
  }

  /**
   * The chart's own settings (two levels deep: sections and their keys) that the schema names but
   * values.yaml gives no default; deeper down the schema may describe optional Kubernetes fields
   * (a probe's successThreshold) that rightly have none. Helm's own "global" is left out.
   */
  static List<String> unused() throws IOException {
    List<String> out = new ArrayList<>();
    compare(values(), schema(), "", out, false);
    out.remove("global");
    return out;
  }

  private static void compare(Object values, JsonObject schema, String path, List<String> out, boolean valuesSide) {
    JsonObject properties = schema.getJsonObject("properties");
    if (properties == null || !(values instanceof JsonObject v)) {
      return;
    }
    boolean closed = Boolean.FALSE.equals(schema.getValue("additionalProperties"));
    for (String key : valuesSide ? v.fieldNames() : properties.fieldNames()) {
      String at = path.isEmpty() ? key : path + "." + key;
      Object inValues = v.getValue(key);
      JsonObject inSchema = properties.getJsonObject(key);
      if (valuesSide && inSchema == null && closed) {
        out.add(at);
      } else if (!valuesSide && !v.containsKey(key) && path.split("\\.").length <= 1) {
        out.add(at);
      } else if (inSchema != null && inValues != null) {
        compare(inValues, inSchema, at, out, valuesSide);
      }
    }
  }
}
