package io.aiq.circles.eval;

import io.aiq.circles.contracts.BoundingBox;

/** A detector's box for an image, with its score. */
public record Prediction(BoundingBox box, double score) {
}
