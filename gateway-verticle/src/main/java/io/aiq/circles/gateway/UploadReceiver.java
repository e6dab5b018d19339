package io.aiq.circles.gateway;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.images.UploadRejected;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.netty.handler.codec.http.multipart.HttpPostRequestDecoder;
import java.util.Locale;

/**
 * Reads an upload's bytes into memory as they stream in, either the {@code file} part of a
 * multipart form or a raw body with an image content type, and stops at the size limit: the client
 * gets 413 as soon as the limit is crossed (or at once, from Content-Length), nothing is written to
 * disk, and no temporary file can be left behind. A body that has not arrived within the upload
 * timeout is refused with 408, so a client trickling bytes (slow loris) cannot hold a buffer long.
 */
final class UploadReceiver {
  static final String FILE_FIELD = "file";
  static final int MAX_PART_HEADER_BYTES = 16 * 1024;
  static final int MAX_FORM_FIELDS = 16;

  private final Vertx vertx;
  private final long maxBytes;
  private final long timeoutMs;

  UploadReceiver(Vertx vertx, long maxBytes, long timeoutMs) {
    this.vertx = vertx;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
  }

  Future<byte[]> receive(HttpServerRequest request) {
    String contentType = request.getHeader("Content-Type");
    String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).trim();
    String length = request.getHeader("Content-Length");
    if (length != null) {
      try {
        if (Long.parseLong(length.trim()) > maxBytes + 64 * 1024L) {
          return Future.failedFuture(tooLarge());
        }
      } catch (NumberFormatException e) {
        return Future.failedFuture(new UploadRejected(ErrorCode.BAD_REQUEST, "malformed Content-Length"));
      }
    }
    if (ct.startsWith("multipart/form-data")) {
      return withinTimeout(multipart(request));
    }
    if (ct.startsWith("image/") || ct.startsWith("application/octet-stream")) {
      return withinTimeout(raw(request));
    }
    return Future.failedFuture(new UploadRejected(ErrorCode.UNSUPPORTED_MEDIA_TYPE, ct.isEmpty()
        ? "send the image as multipart/form-data (field 'file') or as a raw body with an image content type"
        : "content type '" + ct + "' is not accepted: send multipart/form-data (field 'file') or an image/* body"));
  }

  private Future<byte[]> raw(HttpServerRequest request) {
    Promise<byte[]> result = Promise.promise();
    Buffer body = Buffer.buffer();
    request.handler(chunk -> {
      if (body.length() + chunk.length() > maxBytes) {
        result.tryFail(tooLarge());
        return;
      }
      if (!result.future().isComplete()) {
        body.appendBuffer(chunk);
      }
    });
    request.exceptionHandler(result::tryFail);
    request.endHandler(v -> result.tryComplete(body.getBytes()));
    request.resume();
    return result.future();
  }

  private Future<byte[]> multipart(HttpServerRequest request) {
    Promise<byte[]> result = Promise.promise();
    Buffer body = Buffer.buffer();
    int[] files = {0};
    request.setExpectMultipart(true);
    request.uploadHandler(upload -> {
      if (!FILE_FIELD.equals(upload.name())) {
        upload.handler(ignored -> { });
        return;
      }
      files[0]++;
      upload.handler(chunk -> {
        if (files[0] > 1) {
          return;
        }
        if (body.length() + chunk.length() > maxBytes) {
          result.tryFail(tooLarge());
          return;
        }
        if (!result.future().isComplete()) {
          body.appendBuffer(chunk);
        }
      });
      upload.exceptionHandler(e -> result.tryFail(malformedForm(e)));
    });
    request.exceptionHandler(e -> result.tryFail(malformedForm(e)));
    request.endHandler(v -> {
      if (files[0] == 0) {
        result.tryFail(new UploadRejected(ErrorCode.MISSING_FILE, "the form has no 'file' field"));
      } else if (files[0] > 1) {
        result.tryFail(new UploadRejected(ErrorCode.BAD_REQUEST, "the form has " + files[0]
            + " 'file' fields; send one image per request"));
      } else {
        result.tryComplete(body.getBytes());
      }
    });
    request.resume();
    return result.future();
  }

  /**
   * Netty's form decoder fails with its own exceptions (a part header beyond
   * {@link #MAX_PART_HEADER_BYTES}, more than {@link #MAX_FORM_FIELDS} fields, a broken part): those
   * are the client's fault and get 400 with a reason, not 500.
   */
  private static Throwable malformedForm(Throwable e) {
    if (e instanceof HttpPostRequestDecoder.TooLongFormFieldException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "a multipart part header (its field or file name) is longer than "
          + MAX_PART_HEADER_BYTES + " bytes");
    }
    if (e instanceof HttpPostRequestDecoder.TooManyFormFieldsException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "the form has more than " + MAX_FORM_FIELDS
          + " fields; send one 'file' field");
    }
    if (e instanceof HttpPostRequestDecoder.ErrorDataDecoderException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "the multipart form could not be decoded: " + e.getMessage());
    }
    return e;
  }

  private Future<byte[]> withinTimeout(Future<byte[]> body) {
    Promise<byte[]> result = Promise.promise();
    long timer = vertx.setTimer(timeoutMs, t -> result.tryFail(new UploadRejected(ErrorCode.REQUEST_TIMEOUT,
        "the upload did not arrive within " + timeoutMs + " ms")));
    body.onComplete(ar -> {
      vertx.cancelTimer(timer);
      if (ar.succeeded()) {
        result.tryComplete(ar.result());
      } else {
        result.tryFail(ar.cause());
      }
    });
    return result.future();
  }

  private UploadRejected tooLarge() {
    return new UploadRejected(ErrorCode.PAYLOAD_TOO_LARGE, "the upload exceeds " + maxBytes + " bytes");
  }
}
