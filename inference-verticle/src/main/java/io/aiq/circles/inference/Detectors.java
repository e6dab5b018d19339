package io.aiq.circles.inference;

import io.aiq.circles.contracts.config.AppConfig;
import io.aiq.circles.contracts.config.ConfigException;

/** Chooses the detector named by the {@code detector} setting. */
public final class Detectors {
  private Detectors() {
  }

  public static Detector create(AppConfig config) {
    return switch (config.detector()) {
      case "dummy" -> new DummyDetector();
      default -> throw new ConfigException("detector: '" + config.detector() + "' is not available (known: dummy)");
    };
  }
}
