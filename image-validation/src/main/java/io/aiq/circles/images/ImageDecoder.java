package io.aiq.circles.images;

import java.awt.image.BufferedImage;
import java.util.function.Function;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes image bytes into pixels: the one path from bytes to pixels (inference's decoding of every
 * stored image, the KServe endpoints, the evaluation tools). JPEG, PNG and BMP through the JDK's
 * ImageIO readers, WebP through the TwelveMonkeys plugin; no other format, whatever readers the
 * classpath holds.
 *
 * <p>The container is checked first, as uploads are ({@link UploadValidator}), with a ceiling of
 * {@value #MAX_PIXELS} pixels: a blob stored before a check existed, or bytes that reach a decoder
 * some other way, cannot make it allocate what a lying header declares. Then the format's reader
 * decodes, metadata ignored, from a {@link GuardedImageInputStream}: a decoder that keeps reading past
 * the end of the file, or allocates more than {@value #BUDGET_PER_PIXEL} bytes per declared pixel plus
 * 12 MiB, is stopped. Whatever goes wrong, an exception or an error of any kind (an
 * OutOfMemoryError for an array "exceeding the VM limit", a StackOverflowError, an index out of
 * bounds in a plugin), comes out as {@link CorruptImageException}, whose message says what failed
 * without a decoder's exception text.
 */
public final class ImageDecoder {
  private static final Logger LOG = LoggerFactory.getLogger(ImageDecoder.class);

  /** Far above any sensible {@code upload.max-pixels} (default 40,000,000): a safety net, not the limit. */
  public static final long MAX_PIXELS = 1L << 28;

  /**
   * Decoding may allocate this many bytes per pixel the header declares, plus {@link #BUDGET_FIXED}:
   * a decoded raster needs 3 to 8, a decoder's working buffers a few more. Past the budget the image
   * is refused as corrupt (the decoder was building tables or rows no image of that size needs).
   */
  public static final long BUDGET_PER_PIXEL = 48;
  public static final long BUDGET_FIXED = 12L << 20;

  private static final UploadValidator CONTAINER = new UploadValidator(MAX_PIXELS);

  static {
    // ImageIO would otherwise buffer streams in temporary files
    ImageIO.setUseCache(false);
  }

  private ImageDecoder() {
  }

  /** @throws CorruptImageException when the bytes are not an accepted, decodable image */
  public static BufferedImage decode(byte[] bytes) {
    return decode(bytes, UploadValidator::reader);
  }

  /** With the readers {@code readers} gives (tests hand in misbehaving ones). */
  static BufferedImage decode(byte[] bytes, Function<ImageFormat, ImageReader> readers) {
    ImageFormat format = null;
    try {
      UploadValidator.Header header;
      try {
        header = CONTAINER.inspect(bytes, false);
      } catch (UploadRejected r) {
        throw new CorruptImageException(r.getMessage());
      }
      format = header.format();
      ImageReader reader = readers.apply(format);
      long budget = BUDGET_PER_PIXEL * header.pixels() + BUDGET_FIXED;
      try (ImageInputStream in = new GuardedImageInputStream(bytes, budget)) {
        reader.setInput(in, true, true);
        BufferedImage img = reader.read(0);
        if (img == null) {
          throw new CorruptImageException("the " + format.wire() + " image has no pixels");
        }
        return img;
      } finally {
        reader.dispose();
      }
    } catch (CorruptImageException e) {
      throw e;
    } catch (OutOfMemoryError e) {
      LOG.warn("decoding a {} image of {} bytes ran out of memory", format, bytes.length);
      throw new CorruptImageException(the(format) + " needs more memory to decode than may be used");
    } catch (GuardedImageInputStream.BudgetExceeded e) {
      LOG.debug("decoding a {} image of {} bytes went over its allocation budget", format, bytes.length);
      throw new CorruptImageException(the(format) + " needs more memory to decode than its size allows");
    } catch (StackOverflowError e) {
      LOG.warn("decoding a {} image of {} bytes overflowed the stack", format, bytes.length);
      throw new CorruptImageException(the(format) + " cannot be decoded");
    } catch (Throwable e) {
      // IIOException and EOFException for corrupt data; IllegalArgumentException, an index out of bounds
      // or a NegativeArraySizeException where a plugin trusted a field; anything else the same way
      for (Throwable c = e.getCause(); c != null && c != c.getCause(); c = c.getCause()) {
        if (c instanceof GuardedImageInputStream.BudgetExceeded) {
          throw new CorruptImageException(the(format) + " needs more memory to decode than its size allows");
        }
      }
      LOG.debug("decoding a {} image of {} bytes failed", format, bytes.length, e);
      throw new CorruptImageException(the(format) + " data cannot be decoded");
    }
  }

  private static String the(ImageFormat format) {
    return format == null ? "the image" : "the " + format.wire() + " image";
  }

  /** Bytes that are not a decodable image: the job fails with {@code corrupt_image}, the request gets 422. */
  public static final class CorruptImageException extends RuntimeException {
    public CorruptImageException(String message) {
      super(message, null, false, false);
    }
  }
}
