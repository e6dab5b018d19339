package io.aiq.circles.inference;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigException;
import io.aiq.circles.inference.tf.TfDetector;

/** Chooses the detector named by the {@code detector} setting. */
public final class Detectors {
  private Detectors() {
  }

  public static Detector create(AppConfig config) {
    return switch (config.detector()) {
      case "dummy" -> new DummyDetector(config.dummyDelayMs());
      case "tensorflow" -> tensorflow(config.model());
      case "kserve" -> new KServeDetector(java.net.URI.create(config.kserve().url()), config.kserve().model(),
          config.kserve().protocol(), java.time.Duration.ofMillis(config.kserve().timeoutMs()));
      default -> throw new ConfigException("detector: '" + config.detector() + "' is not available (known: dummy, tensorflow, kserve)");
    };
  }

  private static Detector tensorflow(AppConfig.Model model) {
    try {
      return new TfDetector(model.path(), model.threads(), model.scoreThreshold());
    } catch (java.io.IOException e) {
      throw new ConfigException("model.path: " + e.getMessage());
    }
  }
}
