package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;

/**
 * Where image blobs live between the upload and inference: a filesystem ({@link FileImageStore}) or
 * an object store. Blobs are named by their content hash only, never by anything the client sent,
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

  /** The blob's bytes; fails if there is none under the reference. */
  Future<Buffer> get(String ref);

  /** Removes the blob; removing one that is not there succeeds (deletion is idempotent). */
  Future<Void> delete(String ref);
}
