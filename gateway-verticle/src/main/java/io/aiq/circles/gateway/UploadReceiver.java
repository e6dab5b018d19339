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
 * Reads an upload's bytes into memory as they stream in, either the {@code file} parts of a
 * multipart form (one, or a batch of up to {@code upload.max-files-per-request}, all in one buffer
 * bounded by the request's limit) or a raw body with an image content type, and stops at the size limit: the client
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
  private final Admission admission;
  private final int maxFiles;

  UploadReceiver(Vertx vertx, long maxBytes, long timeoutMs, Admission admission) {
    this(vertx, maxBytes, timeoutMs, admission, 1);
  }

  /** @param maxFiles file parts one form may carry; beyond it 413 {@code too_many_files} */
  UploadReceiver(Vertx vertx, long maxBytes, long timeoutMs, Admission admission, int maxFiles) {
    this.vertx = vertx;
    this.maxBytes = maxBytes;
    this.timeoutMs = timeoutMs;
    this.admission = admission;
    this.maxFiles = maxFiles;
  }

  /**
   * One file of an upload: a {@code file} part of a form (in the order sent), or the raw body.
   *
   * @param filename as the part's header gave it (null for a raw body or a part without one); only
   *     ever echoed in the answer, never used as a path
   */
  record Part(int index, String filename, Buffer buffer) {
    /** A copy as an array, for the validator (ImageIO and the digest read arrays). */
    byte[] bytes() {
      return buffer.getBytes();
    }
  }

  /**
   * An upload's bytes, and the room they hold in {@code upload.max-bytes-in-flight} until
   * {@link #release} (once its answer is sent).
   */
  static final class Body {
    private final Admission admission;
    private long reserved;
    private Buffer buffer;
    /** Where each file part starts and ends in {@link #buffer}, in the order sent; null: a raw body. */
    private java.util.List<long[]> spans;
    private java.util.List<String> filenames;
    private String callbackUrl;
    private boolean callbackUrlRepeated;

    private Body(Admission admission) {
      this.admission = admission;
    }

    /** The bytes as received: what travels to ingest (no copy within a process). */
    Buffer buffer() {
      return buffer;
    }

    /** The form field {@code callbackUrl} of a multipart upload, unchecked; null when absent. */
    String callbackUrl() {
      return callbackUrl;
    }

    /** The form held more than one {@code callbackUrl} field (ambiguous: refused). */
    boolean callbackUrlRepeated() {
      return callbackUrlRepeated;
    }

    /**
     * The files in the order sent. Each part's bytes are a slice of the one buffer received (no copy);
     * a single part is the whole buffer, as {@link #buffer()} is.
     */
    java.util.List<Part> parts() {
      if (spans == null || spans.size() == 1) {
        return java.util.List.of(new Part(0, spans == null ? null : filenames.get(0), buffer));
      }
      java.util.List<Part> out = new java.util.ArrayList<>(spans.size());
      for (int i = 0; i < spans.size(); i++) {
        long[] span = spans.get(i);
        out.add(new Part(i, filenames.get(i), buffer.slice((int) span[0], (int) span[1])));
      }
      return out;
    }

    /** Reserves room for {@code more} bytes; false when the process holds too many already. */
    private boolean grow(long more) {
      if (!admission.reserve(more)) {
        return false;
      }
      reserved += more;
      return true;
    }

    /** Gives the room back; safe to call more than once. */
    void release() {
      long r = reserved;
      reserved = 0;
      buffer = null;
      spans = null;
      filenames = null;
      admission.release(r);
    }
  }

  /** The body, or a failure ({@link UploadRejected}) having released whatever it reserved. */
  Future<Body> receive(HttpServerRequest request) {
    Body body = new Body(admission);
    return receive(request, body).onFailure(e -> body.release());
  }

  private Future<Body> receive(HttpServerRequest request, Body body) {
    String contentType = request.getHeader("Content-Type");
    String ct = contentType == null ? "" : contentType.toLowerCase(Locale.ROOT).trim();
    String length = request.getHeader("Content-Length");
    long declared = -1;
    if (length != null) {
      try {
        declared = Long.parseLong(length.trim());
      } catch (NumberFormatException e) {
        return Future.failedFuture(new UploadRejected(ErrorCode.BAD_REQUEST, "malformed Content-Length"));
      }
      if (declared > maxBytes + 64 * 1024L) {
        return Future.failedFuture(tooLarge());
      }
      if (declared < 0) {
        return Future.failedFuture(new UploadRejected(ErrorCode.BAD_REQUEST, "malformed Content-Length"));
      }
    }
    Future<Buffer> bytes;
    if (ct.startsWith("multipart/form-data")) {
      if (!hasBoundary(ct)) {
        return Future.failedFuture(new UploadRejected(ErrorCode.BAD_REQUEST,
            "multipart/form-data needs a boundary parameter (Content-Type: multipart/form-data; boundary=...)"));
      }
      if (declared >= 0 && !body.grow(declared)) {
        return Future.failedFuture(busy());
      }
      bytes = multipart(request, declared < 0 ? body : null, declared, body);
    } else if (ct.startsWith("image/") || ct.startsWith("application/octet-stream")) {
      if (declared >= 0 && !body.grow(declared)) {
        return Future.failedFuture(busy());
      }
      bytes = raw(request, declared < 0 ? body : null, declared);
    } else {
      return Future.failedFuture(new UploadRejected(ErrorCode.UNSUPPORTED_MEDIA_TYPE, ct.isEmpty()
          ? "send the image as multipart/form-data (field 'file') or as a raw body with an image content type"
          : "content type '" + ct + "' is not accepted: send multipart/form-data (field 'file') or an image/* body"));
    }
    boolean form = ct.startsWith("multipart/form-data");
    return withinTimeout(bytes).map(b -> {
      body.buffer = b;
      // the form's fields are all decoded once the body has ended, whatever their order
      java.util.List<String> callbacks = form ? request.formAttributes().getAll(CallbackUrl.PARAM) : java.util.List.of();
      body.callbackUrl = callbacks.isEmpty() ? null : callbacks.get(0);
      body.callbackUrlRepeated = callbacks.size() > 1;
      return body;
    });
  }

  /**
   * Netty's multipart decoder fails with an exception of its own, before any handler of ours runs,
   * on a boundary parameter that is missing or empty: checked here so the client gets 400.
   */
  static boolean hasBoundary(String contentType) {
    for (String param : contentType.split(";")) {
      String p = param.trim();
      if (p.startsWith("boundary=")) {
        String value = p.substring("boundary=".length()).trim();
        if (value.length() >= 2 && value.startsWith("\"") && value.endsWith("\"")) {
          value = value.substring(1, value.length() - 1);
        }
        // RFC 2046: 1 to 70 characters
        return !value.isEmpty() && value.length() <= 70;
      }
    }
    return false;
  }

  /** Rejects a chunk that would pass the byte limit, or, without a Content-Length, the memory bound. */
  private UploadRejected admit(Buffer body, Buffer chunk, Body unreserved) {
    if (body.length() + chunk.length() > maxBytes) {
      return tooLarge();
    }
    if (unreserved != null && !unreserved.grow(chunk.length())) {
      return busy();
    }
    return null;
  }

  private Future<Buffer> raw(HttpServerRequest request, Body unreserved, long declared) {
    Promise<Buffer> result = Promise.promise();
    Buffer body = sized(declared);
    request.handler(chunk -> {
      if (result.future().isComplete()) {
        return;
      }
      UploadRejected refused = admit(body, chunk, unreserved);
      if (refused != null) {
        result.tryFail(refused);
        return;
      }
      body.appendBuffer(chunk);
    });
    request.exceptionHandler(result::tryFail);
    request.endHandler(v -> result.tryComplete(body));
    request.resume();
    return result.future();
  }

  /** Sized once from Content-Length (an upper bound of the file part too): no copies while it grows. */
  private Buffer sized(long declared) {
    return declared > 0 ? Buffer.buffer((int) Math.min(declared, maxBytes)) : Buffer.buffer();
  }

  private Future<Buffer> multipart(HttpServerRequest request, Body unreserved, long declared, Body parts) {
    Promise<Buffer> result = Promise.promise();
    Buffer body = sized(declared);
    int[] files = {0};
    java.util.List<long[]> spans = new java.util.ArrayList<>();
    java.util.List<String> filenames = new java.util.ArrayList<>();
    parts.spans = spans;
    parts.filenames = filenames;
    try {
      request.setExpectMultipart(true);
    } catch (RuntimeException e) {
      return Future.failedFuture(malformedForm(e));
    }
    request.uploadHandler(upload -> {
      if (!FILE_FIELD.equals(upload.name())) {
        upload.handler(ignored -> { });
        return;
      }
      files[0]++;
      if (files[0] > maxFiles) {
        // refused while the body is still arriving: nothing of it is stored
        result.tryFail(new UploadRejected(ErrorCode.TOO_MANY_FILES, "the form has more than " + maxFiles
            + " 'file' parts; send at most " + maxFiles + " files per request (upload.max-files-per-request)"));
        upload.handler(ignored -> { });
        return;
      }
      // the parts are appended one after the other: each part's span of the one buffer
      if (!spans.isEmpty()) {
        spans.get(spans.size() - 1)[1] = body.length();
      }
      spans.add(new long[] {body.length(), -1});
      filenames.add(upload.filename());
      upload.handler(chunk -> {
        if (result.future().isComplete()) {
          return;
        }
        UploadRejected refused = admit(body, chunk, unreserved);
        if (refused != null) {
          result.tryFail(refused);
          return;
        }
        body.appendBuffer(chunk);
      });
      upload.exceptionHandler(e -> result.tryFail(malformedForm(e)));
    });
    request.exceptionHandler(e -> result.tryFail(malformedForm(e)));
    request.endHandler(v -> {
      if (files[0] == 0) {
        result.tryFail(new UploadRejected(ErrorCode.MISSING_FILE, "the form has no 'file' field"));
      } else {
        spans.get(spans.size() - 1)[1] = body.length();
        result.tryComplete(body);
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
  private Throwable malformedForm(Throwable e) {
    if (e instanceof HttpPostRequestDecoder.TooLongFormFieldException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "a multipart part header (its field or file name) is longer than "
          + MAX_PART_HEADER_BYTES + " bytes");
    }
    if (e instanceof HttpPostRequestDecoder.TooManyFormFieldsException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "the form has more than " + MAX_FORM_FIELDS
          + " fields besides its 'file' parts (at most " + maxFiles + " of those)");
    }
    if (e instanceof HttpPostRequestDecoder.ErrorDataDecoderException
        || e instanceof io.netty.handler.codec.DecoderException) {
      return new UploadRejected(ErrorCode.BAD_REQUEST, "the multipart form could not be decoded");
    }
    return e;
  }

  private UploadRejected busy() {
    Admission.Refusal r = admission.memoryRefusal();
    return new UploadRejected(ErrorCode.UNAVAILABLE, r.message());
  }

  private Future<Buffer> withinTimeout(Future<Buffer> body) {
    Promise<Buffer> result = Promise.promise();
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
