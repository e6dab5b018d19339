package io.aiq.circles.config;

import io.vertx.config.ConfigRetriever;
import io.vertx.config.ConfigRetrieverOptions;
import io.vertx.config.ConfigStoreOptions;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.Locale;
import java.util.Map;

/**
 * Reads the configuration, later sources winning: the defaults shipped in {@code aiq-defaults.yaml},
 * the YAML file named by {@code AIQ_CONFIG_FILE} (if any), the {@code AIQ_*} environment variables,
 * then the overrides given by the caller (tests, the command line).
 *
 * <p>Environment names map onto keys as {@code AIQ_<SECTION>_<KEY>}: the first word after
 * {@code AIQ_} is the section and the rest, lower-cased with dashes, the key ({@code AIQ_UPLOAD_MAX_BYTES}
 * → {@code upload.max-bytes}). A single word is a top-level key ({@code AIQ_ROLES} → {@code roles}).
 * Known subsections are followed too ({@code AIQ_STORE_S3_BUCKET} → {@code store.s3.bucket}).
 */
public final class ConfigLoader {
  public static final String ENV_PREFIX = "AIQ_";
  public static final String CONFIG_FILE_ENV = "AIQ_CONFIG_FILE";
  static final String DEFAULTS = "aiq-defaults.yaml";

  private ConfigLoader() {
  }

  public static Future<AppConfig> load(Vertx vertx, JsonObject overrides) {
    return load(vertx, System.getenv(), overrides);
  }

  /**
   * Loads the configuration as a process with this environment would see it (tools and tests: the
   * Helm chart's tests read what its ConfigMap would configure).
   */
  public static Future<AppConfig> load(Vertx vertx, Map<String, String> env, JsonObject overrides) {
    ConfigRetrieverOptions options = new ConfigRetrieverOptions().setIncludeDefaultStores(false)
        .addStore(yaml(DEFAULTS, false));
    String file = env.get(CONFIG_FILE_ENV);
    if (file != null && !file.isBlank()) {
      // not optional: a named file that cannot be read is a mistake the operator must hear about
      options.addStore(yaml(file, false));
    }
    ConfigRetriever retriever = ConfigRetriever.create(vertx, options);
    return retriever.getConfig()
        .map(json -> {
          deepMerge(json, fromEnvironment(env, json));
          if (overrides != null) {
            deepMerge(json, overrides);
          }
          return AppConfig.from(json);
        })
        .eventually(() -> {
          retriever.close();
          return Future.succeededFuture();
        });
  }

  private static ConfigStoreOptions yaml(String path, boolean optional) {
    return new ConfigStoreOptions().setType("file").setFormat("yaml").setOptional(optional)
        .setConfig(new JsonObject().put("path", path));
  }

  /**
   * The {@code AIQ_*} variables as nested JSON; {@code AIQ_CONFIG_FILE} names the file and is no key.
   * Names are matched against the known settings first, so that sections and top-level keys with
   * dashes work ({@code AIQ_RATE_LIMIT_BURST} → {@code rate-limit.burst}, {@code AIQ_API_KEYS} →
   * {@code api-keys}); an unknown name is read as {@code AIQ_<SECTION>_<KEY>}.
   */
  static JsonObject fromEnvironment(Map<String, String> env, JsonObject known) {
    JsonObject out = new JsonObject();
    env.forEach((name, value) -> {
      if (!name.startsWith(ENV_PREFIX) || name.equals(CONFIG_FILE_ENV)) {
        return;
      }
      place(out, known, name.substring(ENV_PREFIX.length()).toLowerCase(Locale.ROOT), value, true);
    });
    return out;
  }

  /**
   * Puts one variable's value where its name (lower-cased, after {@code AIQ_}) points in {@code known}:
   * a known key, or into a known section and on down its known subsections ({@code AIQ_STORE_S3_PATH_STYLE}
   * → {@code store.s3.path-style}); what is left is a dashed key of the innermost section found.
   */
  private static void place(JsonObject out, JsonObject known, String rest, String value, boolean top) {
    String leaf = null;
    String knownSection = null;
    for (String key : known.fieldNames()) {
      String envForm = key.replace('-', '_');
      if (!(known.getValue(key) instanceof JsonObject) && rest.equals(envForm)) {
        leaf = key;
      } else if (known.getValue(key) instanceof JsonObject && rest.startsWith(envForm + "_")
          && (knownSection == null || key.length() > knownSection.length())) {
        knownSection = key;
      }
    }
    int sep = rest.indexOf('_');
    if (leaf != null) {
      out.put(leaf, value);
    } else if (knownSection != null) {
      place(child(out, knownSection), known.getJsonObject(knownSection), rest.substring(knownSection.length() + 1),
          value, false);
    } else if (top && sep >= 0) {
      child(out, rest.substring(0, sep)).put(rest.substring(sep + 1).replace('_', '-'), value);
    } else {
      out.put(top ? rest : rest.replace('_', '-'), value);
    }
  }

  private static JsonObject child(JsonObject parent, String name) {
    JsonObject s = parent.getJsonObject(name);
    if (s == null) {
      s = new JsonObject();
      parent.put(name, s);
    }
    return s;
  }

  static void deepMerge(JsonObject target, JsonObject source) {
    source.forEach(e -> {
      Object existing = target.getValue(e.getKey());
      if (existing instanceof JsonObject t && e.getValue() instanceof JsonObject s) {
        deepMerge(t, s);
      } else if (e.getValue() instanceof JsonArray a) {
        target.put(e.getKey(), a.copy());
      } else if (e.getValue() instanceof JsonObject s) {
        target.put(e.getKey(), s.copy());
      } else {
        target.put(e.getKey(), e.getValue());
      }
    });
  }
}
