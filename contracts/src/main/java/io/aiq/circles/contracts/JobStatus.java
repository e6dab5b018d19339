package io.aiq.circles.contracts;

/** A job's life: {@code queued → processing → succeeded | failed}. */
public enum JobStatus {
  QUEUED, PROCESSING, SUCCEEDED, FAILED;

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public boolean terminal() {
    return this == SUCCEEDED || this == FAILED;
  }

  public static JobStatus fromWire(String s) {
    return valueOf(s.toUpperCase(java.util.Locale.ROOT));
  }
}
