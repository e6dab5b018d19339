package io.aiq.circles.config;

/** A setting that is missing or malformed; the message names the key. */
public class ConfigException extends RuntimeException {
  public ConfigException(String message) {
    super(message);
  }
}
