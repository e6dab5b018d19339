package io.aiq.circles.contracts;

/**
 * A job's life: {@code queued → processing → succeeded | failed}, or {@code cancelled} by a client
 * ({@code DELETE /jobs/{jobId}}) before it finished.
 */
public enum JobStatus {
  QUEUED, PROCESSING, SUCCEEDED, FAILED, CANCELLED;

  public String wire() {
    return name().toLowerCase(java.util.Locale.ROOT);
  }

  public boolean terminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }

  public static JobStatus fromWire(String s) {
    return valueOf(s.toUpperCase(java.util.Locale.ROOT));
  }
}
