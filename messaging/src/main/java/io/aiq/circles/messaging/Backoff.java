package io.aiq.circles.messaging;

/** Exponential back-off between a base and a cap, reset after a success. */
public final class Backoff {
  private final long baseMs;
  private final long maxMs;
  private long current;

  public Backoff(long baseMs, long maxMs) {
    this.baseMs = Math.max(1, baseMs);
    this.maxMs = Math.max(this.baseMs, maxMs);
  }

  /** The delay before the next try; each call doubles it up to the cap. */
  public long next() {
    current = current == 0 ? baseMs : Math.min(maxMs, current * 2);
    return current;
  }

  public void reset() {
    current = 0;
  }
}
