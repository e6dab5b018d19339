package io.aiq.circles.persistence;

import io.vertx.sqlclient.Row;
import java.time.Instant;
import java.time.OffsetDateTime;

final class Rows {
  private Rows() {
  }

  static Instant instant(Row row, String column) {
    OffsetDateTime t = row.getOffsetDateTime(column);
    return t == null ? null : t.toInstant();
  }
}
