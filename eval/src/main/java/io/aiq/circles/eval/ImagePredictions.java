package io.aiq.circles.eval;

import java.util.List;

/** What a detector answered for one image, how long it took, or why it could not answer. */
public record ImagePredictions(List<Prediction> predictions, long latencyMillis, String error) {
  public static ImagePredictions failed(long latencyMillis, String error) {
    return new ImagePredictions(List.of(), latencyMillis, error);
  }
}
