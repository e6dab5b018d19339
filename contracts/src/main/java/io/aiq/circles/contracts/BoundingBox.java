package io.aiq.circles.contracts;

import io.vertx.core.json.JsonArray;

/** An axis-aligned box in image pixels, {@code [xmin, ymin, xmax, ymax]}, as the template answered. */
public record BoundingBox(double xmin, double ymin, double xmax, double ymax) {

  public BoundingBox {
    if (!(xmax >= xmin && ymax >= ymin)) {
      throw new IllegalArgumentException("box must have xmax >= xmin and ymax >= ymin: "
          + xmin + "," + ymin + "," + xmax + "," + ymax);
    }
  }

  public double width() {
    return xmax - xmin;
  }

  public double height() {
    return ymax - ymin;
  }

  public JsonArray toJson() {
    return new JsonArray().add(xmin).add(ymin).add(xmax).add(ymax);
  }

  public static BoundingBox fromJson(JsonArray a) {
    if (a == null || a.size() != 4) {
      throw new IllegalArgumentException("bbox must be [xmin, ymin, xmax, ymax]");
    }
    return new BoundingBox(number(a, 0), number(a, 1), number(a, 2), number(a, 3));
  }

  private static double number(JsonArray a, int i) {
    Object v = a.getValue(i);
    if (!(v instanceof Number n)) {
      throw new IllegalArgumentException("bbox[" + i + "] is not a number");
    }
    return n.doubleValue();
  }
}
