package io.aiq.circles.inference;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;

/**
 * A stand-in model for tests and demos ({@code detector: dummy}), as the template's dummy mode: three
 * circles in a row across the middle of every image, scaled to its size, with fixed scores. Fully
 * deterministic, so tests can assert exact results. It may take a set time per image, as a model
 * would ({@code dummy.delay-ms}), for load and fault tests of the pipeline.
 */
public final class DummyDetector implements Detector {
  private final long delayMs;

  public DummyDetector() {
    this(0);
  }

  public DummyDetector(long delayMs) {
    this.delayMs = delayMs;
  }

  @Override
  public String modelName() {
    return "dummy";
  }

  @Override
  public String modelVersion() {
    return "1";
  }

  @Override
  public boolean ready() {
    return true;
  }

  @Override
  public List<List<Detection>> detect(List<BufferedImage> images) throws InterruptedException {
    if (delayMs > 0) {
      Thread.sleep(delayMs * images.size());
    }
    List<List<Detection>> out = new ArrayList<>(images.size());
    for (BufferedImage img : images) {
      out.add(circlesFor(img.getWidth(), img.getHeight()));
    }
    return out;
  }

  static List<Detection> circlesFor(int width, int height) {
    double r = Math.max(1.0, Math.min(width, height) / 8.0);
    double cy = height / 2.0;
    double[] scores = {0.95, 0.9, 0.85};
    List<Detection> dets = new ArrayList<>(3);
    for (int i = 0; i < 3; i++) {
      double cx = width * (i + 1) / 4.0;
      dets.add(new Detection(new BoundingBox(clamp(cx - r, width), clamp(cy - r, height), clamp(cx + r, width),
          clamp(cy + r, height)), scores[i]));
    }
    return dets;
  }

  private static double clamp(double v, int max) {
    return Math.max(0, Math.min(max, v));
  }
}
