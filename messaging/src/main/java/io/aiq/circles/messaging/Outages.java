package io.aiq.circles.messaging;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.util.concurrent.TimeoutException;
import org.apache.kafka.common.errors.RetriableException;

/**
 * Which failures are a dependency's rather than a record's. A consumer retries an outage without
 * counting it against the record ({@link ConsumerLoop.RetryPolicy}): dead-lettering every record of
 * a partition because the broker was restarting would lose the pipeline's whole backlog to the DLQ.
 */
public final class Outages {
  private Outages() {
  }

  /** The broker, or the network to it: retriable Kafka errors, timeouts, closed connections. */
  public static boolean isKafkaOutage(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof RetriableException || isNetwork(e)) {
        return true;
      }
    }
    return false;
  }

  /**
   * Timeouts, refused or closed connections of any client (Vert.x reports a closed connection and
   * a pool wait that timed out with exceptions of its own, told apart here by name).
   */
  public static boolean isNetwork(Throwable e) {
    if (e instanceof TimeoutException || e instanceof org.apache.kafka.common.errors.TimeoutException) {
      return true;
    }
    if (e instanceof IOException && !(e instanceof FileSystemException)) {
      return true;
    }
    String type = e.getClass().getSimpleName();
    return type.contains("ClosedConnection") || type.contains("TimeoutException") || type.contains("ConnectException");
  }
}
