package io.aiq.circles.contracts;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * One circular object found in an image. The circle is derived from the box, as the template did:
 * centroid = box centre, radius = half the mean of width and height.
 */
public record Detection(BoundingBox bbox, double score) {

  public Detection {
    if (!(score >= 0.0 && score <= 1.0)) {
      throw new IllegalArgumentException("score must lie in [0, 1]: " + score);
    }
  }

  public double centroidX() {
    return (bbox.xmin() + bbox.xmax()) / 2.0;
  }

  public double centroidY() {
    return (bbox.ymin() + bbox.ymax()) / 2.0;
  }

  public double radius() {
    return (bbox.width() + bbox.height()) / 4.0;
  }

  /** The event form: the box and the score; the circle is derived by every reader the same way. */
  public JsonObject toJson() {
    return new JsonObject().put("bbox", bbox.toJson()).put("score", score);
  }

  public static Detection fromJson(JsonObject json) {
    Object score = json.getValue("score");
    if (!(score instanceof Number n)) {
      throw new IllegalArgumentException("detection.score is missing or not a number");
    }
    Object bbox = json.getValue("bbox");
    if (!(bbox instanceof JsonArray arr)) {
      throw new IllegalArgumentException("detection.bbox is missing");
    }
    return new Detection(BoundingBox.fromJson(arr), n.doubleValue());
  }
}
