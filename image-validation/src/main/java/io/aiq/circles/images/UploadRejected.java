package io.aiq.circles.images;

import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.ErrorCode;

/** An upload refused before anything was stored, with the API error the client gets. */
public class UploadRejected extends ApiException {
  public UploadRejected(ErrorCode code, String message) {
    super(code, message);
  }
}
