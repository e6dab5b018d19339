package io.aiq.circles.persistence;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.vertx.sqlclient.Row;

/** A detection with the id the API knows it by. */
public record StoredDetection(int objectId, Detection detection) {
  static StoredDetection from(Row row) {
    return new StoredDetection(row.getInteger("object_id"), new Detection(
        new BoundingBox(row.getDouble("box_xmin"), row.getDouble("box_ymin"), row.getDouble("box_xmax"),
        row.getDouble("box_ymax")),
        row.getDouble("score")));
  }
}
