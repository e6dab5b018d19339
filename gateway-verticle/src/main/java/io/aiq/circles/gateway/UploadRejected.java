package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ErrorCode;

/** An upload refused before anything was stored, with the API error the client gets. */
public class UploadRejected extends RuntimeException {
  private final ErrorCode code;

  public UploadRejected(ErrorCode code, String message) {
    super(message, null, false, false);
    this.code = code;
  }

  public ErrorCode code() {
    return code;
  }
}
