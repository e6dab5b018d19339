package io.aiq.circles.eval;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.images.ImageDecoder;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** Runs the detector in this process, as the inference role does: decode, then detect. */
public final class LocalPredictor implements Predictor {
  private final Detector detector;

  public LocalPredictor(Detector detector) {
    this.detector = detector;
  }

  @Override
  public ImagePredictions predict(Path file) {
    long t0 = System.nanoTime();
    try {
      BufferedImage image = detector.decode(Files.readAllBytes(file));
      List<Detection> found = detector.detect(List.of(image)).get(0);
      List<Prediction> predictions = found.stream().map(d -> new Prediction(d.bbox(), d.score())).toList();
      return new ImagePredictions(predictions, millisSince(t0), null);
    } catch (ImageDecoder.CorruptImageException e) {
      return ImagePredictions.failed(millisSince(t0), "not a decodable image: " + e.getMessage());
    } catch (IOException e) {
      return ImagePredictions.failed(millisSince(t0), "cannot read: " + e.getMessage());
    } catch (Exception e) {
      return ImagePredictions.failed(millisSince(t0), "detector failed: " + e);
    }
  }

  @Override
  public JsonObject model() {
    return new JsonObject().put("name", detector.modelName()).put("version", detector.modelVersion());
  }

  @Override
  public void close() {
    detector.close();
  }

  static long millisSince(long t0) {
    return (System.nanoTime() - t0) / 1_000_000;
  }
}
