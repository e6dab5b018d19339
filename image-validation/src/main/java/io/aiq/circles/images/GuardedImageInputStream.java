package io.aiq.circles.images;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.util.Objects;
import javax.imageio.IIOException;
import javax.imageio.stream.ImageInputStreamImpl;

/**
 * The stream a decoder reads an image from: the bytes in memory (no cache, no temporary file), and two
 * guards a decoder cannot opt out of, since it has to read its input to do any work.
 *
 * <ul>
 *   <li>Reading past the end: a decoder may meet the end of the file a few times (look-ahead buffers
 *       do), but one that keeps reading there is decoding data that does not exist. TwelveMonkeys'
 *       lossless WebP decoder, for one, swallows {@code EOFException} and goes on with stale bits, so
 *       a truncated or lying bitstream made it build up to 65,536 Huffman code groups (gigabytes
 *       allocated for a 1×1 image, seconds of CPU, and a loop that need not end). After
 *       {@value #MAX_READS_AT_END} reads at the end this stream throws an {@link IIOException} that is
 *       not an {@code EOFException}, which nothing swallows.
 *   <li>Allocation: every so many reads, the bytes this thread has allocated since the stream was
 *       opened are compared with a budget; past it, the read throws {@link BudgetExceeded}.
 * </ul>
 */
final class GuardedImageInputStream extends ImageInputStreamImpl {
  static final int MAX_READS_AT_END = 256;
  private static final int CHECK_EVERY = 256;
  private static final com.sun.management.ThreadMXBean THREADS = threads();

  private final byte[] data;
  private final long allocationLimit;
  private int readsAtEnd;
  private int calls;

  /** @param allocationBudget bytes this thread may allocate while the stream is read; Long.MAX_VALUE: no budget */
  GuardedImageInputStream(byte[] data, long allocationBudget) {
    this.data = data;
    long now = allocated();
    this.allocationLimit = THREADS == null || allocationBudget == Long.MAX_VALUE || now < 0
        ? Long.MAX_VALUE : now + allocationBudget;
  }

  /** The decoder allocated more than its budget. */
  static final class BudgetExceeded extends IIOException {
    BudgetExceeded(String message) {
      super(message);
    }
  }

  @Override
  public int read() throws IOException {
    guard();
    if (streamPos >= data.length) {
      atEnd();
      return -1;
    }
    bitOffset = 0;
    return data[(int) streamPos++] & 0xff;
  }

  @Override
  public int read(byte[] b, int off, int len) throws IOException {
    Objects.checkFromIndexSize(off, len, b.length);
    calls = CHECK_EVERY - 1; // bulk reads are few: check each one
    guard();
    if (len == 0) {
      return 0;
    }
    if (streamPos >= data.length) {
      atEnd();
      return -1;
    }
    int n = (int) Math.min(len, data.length - streamPos);
    System.arraycopy(data, (int) streamPos, b, off, n);
    streamPos += n;
    bitOffset = 0;
    return n;
  }

  @Override
  public long length() {
    return data.length;
  }

  private void atEnd() throws IIOException {
    if (++readsAtEnd > MAX_READS_AT_END) {
      throw new IIOException("the decoder kept reading past the end of the image");
    }
  }

  private void guard() throws BudgetExceeded {
    if (allocationLimit != Long.MAX_VALUE && ++calls % CHECK_EVERY == 0 && allocated() > allocationLimit) {
      throw new BudgetExceeded("the decoder allocated more than its budget");
    }
  }

  private static long allocated() {
    return THREADS == null ? -1 : THREADS.getCurrentThreadAllocatedBytes();
  }

  private static com.sun.management.ThreadMXBean threads() {
    try {
      if (ManagementFactory.getThreadMXBean() instanceof com.sun.management.ThreadMXBean t
          && t.isThreadAllocatedMemorySupported() && t.isThreadAllocatedMemoryEnabled()) {
        return t;
      }
    } catch (RuntimeException | LinkageError e) {
      // no allocation accounting on this JVM: the end-of-file guard still holds
    }
    return null;
  }
}
