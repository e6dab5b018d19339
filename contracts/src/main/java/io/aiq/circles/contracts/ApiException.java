package io.aiq.circles.contracts;

/**
 * A failure that is an answer to the client (a 400, 404, 413, 422...), not an outage: it carries the
 * error code the API answers with. No stack trace is taken: these are expected outcomes.
 */
public class ApiException extends RuntimeException {
  private final ErrorCode code;

  public ApiException(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
