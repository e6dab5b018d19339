package io.aiq.circles.contracts.events;

/** An event whose JSON cannot be read: a poison message that no retry will mend. */
public class InvalidEventException extends RuntimeException {
  /** The dead-letter reason of a record that is not a readable event. */
  public static final String REASON = "invalid_event";

  public InvalidEventException(String message) {
    super(message);
  }

  public InvalidEventException(String message, Throwable cause) {
    super(message, cause);
  }
}
