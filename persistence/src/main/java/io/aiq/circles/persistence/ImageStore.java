package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * Where image blobs live between the upload and inference: a filesystem ({@link FileImageStore}) or
 * an S3-compatible object store ({@link S3ImageStore}); {@link ImageStores#create} picks the one
 * configured. Blobs are named by their content hash only, never by anything the client sent,
 * so storing the same bytes twice is harmless and a reference ({@link #refFor}) is the same in every
 * store: {@code ab/cd/abcd…ef.jpg}.
 */
public interface ImageStore {
  /** The reference of an image's blob: derived from its SHA-256 (hex) and its format's extension. */
  static String refFor(String imageId, String extension) {
    if (!imageId.matches("[0-9a-f]{64}") || !extension.matches("[a-z0-9]{1,5}")) {
      throw new IllegalArgumentException("not a content hash or extension: " + imageId + "." + extension);
    }
    return imageId.substring(0, 2) + "/" + imageId.substring(2, 4) + "/" + imageId + "." + extension;
  }

  /**
   * Stores the bytes under their hash and completes with the reference once a reader anywhere can
   * read them whole; a reader never sees half a blob.
   */
  Future<String> put(String imageId, String extension, Buffer bytes);

  /**
   * The blob's bytes. Fails with {@link MissingBlobException} if there is none under the reference,
   * and with {@link UnavailableException} if the store cannot answer now.
   */
  Future<Buffer> get(String ref);

  /** Removes the blob; removing one that is not there succeeds (deletion is idempotent). */
  Future<Void> delete(String ref);

  /** Succeeds when the store can serve now (readiness); fails with the reason otherwise. */
  default Future<Void> ready() {
    return Future.succeededFuture();
  }

  /** Releases the store's clients and threads. */
  default Future<Void> close() {
    return Future.succeededFuture();
  }

  /**
   * Whether a failure is the store's rather than the blob's: it could not be reached, timed out,
   * throttled or refused the process (an {@link UnavailableException} anywhere in the causes).
   * Such a failure is an outage: retried, never the record's fault.
   */
  static boolean isUnavailable(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof UnavailableException) {
        return true;
      }
    }
    return false;
  }

  /** There is no blob under the reference (never stored, or deleted): the same in every store. */
  final class MissingBlobException extends RuntimeException {
    public MissingBlobException(String ref, Throwable cause) {
      super("no stored image under " + ref, cause);
    }
  }

  /**
   * The store cannot serve now: unreachable, timed out, throttled, failing (5xx), or refusing this
   * process (credentials, a bucket that does not exist). Not the blob's fault; see {@link #isUnavailable}.
   */
  final class UnavailableException extends RuntimeException {
    public UnavailableException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
