package io.aiq.circles.config;

import io.vertx.core.json.JsonObject;

/**
 * Typed reads of one configuration section. Values from environment variables arrive as strings, so
 * numbers and booleans are accepted in either form; a value that is neither is a start-up error that
 * names the key.
 */
public record Settings(String section, JsonObject json) {

  public static Settings of(JsonObject root, String section) {
    JsonObject s = root.getJsonObject(section);
    return new Settings(section, s == null ? new JsonObject() : s);
  }

  public String string(String key) {
    Object v = json.getValue(key);
    if (v == null) {
      throw new ConfigException(name(key) + " is not set");
    }
    return String.valueOf(v);
  }

  public int integer(String key) {
    return (int) longValue(key);
  }

  public long longValue(String key) {
    Object v = json.getValue(key);
    if (v instanceof Number n) {
      return n.longValue();
    }
    try {
      return Long.parseLong(string(key).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name(key) + " must be a whole number, got '" + v + "'");
    }
  }

  public double doubleValue(String key) {
    Object v = json.getValue(key);
    if (v instanceof Number n) {
      return n.doubleValue();
    }
    try {
      return Double.parseDouble(string(key).trim());
    } catch (NumberFormatException e) {
      throw new ConfigException(name(key) + " must be a number, got '" + v + "'");
    }
  }

  public boolean bool(String key) {
    Object v = json.getValue(key);
    if (v instanceof Boolean b) {
      return b;
    }
    String s = string(key).trim().toLowerCase(java.util.Locale.ROOT);
    return switch (s) {
      case "true", "yes", "1", "on" -> true;
      case "false", "no", "0", "off" -> false;
      default -> throw new ConfigException(name(key) + " must be true or false, got '" + v + "'");
    };
  }

  private String name(String key) {
    return section.isEmpty() ? key : section + "." + key;
  }
}
