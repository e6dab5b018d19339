package io.aiq.circles.persistence;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.file.FileSystem;
import io.vertx.core.internal.buffer.BufferInternal;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.UUID;

/**
 * Image blobs on a filesystem (a local folder, or a shared volume in a cluster): {@code store.type:
 * filesystem}. A reference is the blob's path below {@code store.root}.
 */
public final class FileImageStore implements ImageStore {
  private final Vertx vertx;
  private final FileSystem fs;
  private final Path root;

  public FileImageStore(Vertx vertx, Path root) {
    this.vertx = vertx;
    this.fs = vertx.fileSystem();
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /**
   * Stores the bytes under their hash. Written to a temporary file then moved into place, so a reader
   * never sees half an image and a crash leaves no partial blob under the final name; storing the same
   * content twice is harmless.
   */
  @Override
  public Future<String> put(String imageId, String extension, Buffer bytes) {
    String ref = ImageStore.refFor(imageId, extension);
    Path target = resolve(ref);
    // one trip to a worker thread for the whole of it: four of Vert.x's file-system calls were four
    // trips, most of a lone upload's storing time (issue 17)
    return vertx.executeBlocking(() -> {
      if (Files.exists(target)) {
        return ref;
      }
      Files.createDirectories(target.getParent());
      Path tmp = target.resolveSibling(target.getFileName() + "." + UUID.randomUUID() + ".tmp");
      try {
        try (FileChannel out = FileChannel.open(tmp, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          // the upload's own bytes, not a copy of them
          ByteBuffer data = ((BufferInternal) bytes).getByteBuf().nioBuffer();
          while (data.hasRemaining()) {
            out.write(data);
          }
        }
        Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
      } catch (IOException | RuntimeException e) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException cleanup) {
          e.addSuppressed(cleanup);
        }
        throw e;
      }
      return ref;
    }, false);
  }

  @Override
  public Future<Buffer> get(String ref) {
    return fs.readFile(resolve(ref).toString()).recover(e -> Future.failedFuture(
        isNoSuchFile(e) ? new MissingBlobException(ref, e) : e));
  }

  private static boolean isNoSuchFile(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof NoSuchFileException) {
        return true;
      }
    }
    return false;
  }

  @Override
  public Future<Void> delete(String ref) {
    String path = resolve(ref).toString();
    return fs.exists(path).compose(exists -> exists ? fs.delete(path) : Future.succeededFuture());
  }

  @Override
  public String toString() {
    return "filesystem store at " + root;
  }

  /** The file of a reference; a reference that would leave the store's root is refused. */
  public Path resolve(String ref) {
    Path p = root.resolve(ref).normalize();
    if (!p.startsWith(root) || p.equals(root)) {
      throw new IllegalArgumentException("storage reference outside the image store: " + ref);
    }
    return p;
  }
}
