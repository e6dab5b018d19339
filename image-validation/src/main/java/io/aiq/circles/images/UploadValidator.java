package io.aiq.circles.images;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.config.AppConfig;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decides whether bytes are an image we accept, without decoding its pixels: the one check every way
 * in shares (uploads through the gateway, each image of a KServe V1/V2 request).
 *
 * <p>In order: not empty (else 400 {@code missing_file}); at most {@code upload.max-bytes} (else 413
 * {@code payload_too_large}); magic bytes that name an allowed format (else 415); then the container,
 * read by {@link ContainerChecks}: the header's width and height, capped in pixels as soon as they are
 * known (else 413 {@code image_too_large}, so a "pixel bomb" is refused before anything allocates its
 * raster), container features no photo needs and that would make a decoder allocate from the header
 * (415: a BMP holding a JPEG or PNG, animated WebP, lossless or arithmetic JPEG...), and a container
 * that is whole and does not lie about its sizes (else 422): PNG chunks with valid CRCs up to IEND,
 * JPEG segments up to the end-of-image marker, BMP and WebP files as long as their headers declare.
 * Last, the format's ImageIO reader must read the same width and height from the header (422 if it
 * cannot or sees other ones), so what inference decodes is what was checked here. Checking structure
 * instead of decoding keeps an upload at microseconds of CPU, which is what lets the gateway accept
 * thousands a second. Messages say what is wrong with the image, never a decoder's exception text.
 */
public final class UploadValidator {
  private static final Logger LOG = LoggerFactory.getLogger(UploadValidator.class);

  static {
    // ImageIO would otherwise buffer streams in temporary files
    ImageIO.setUseCache(false);
  }

  /** What reading a header may allocate. */
  private static final long HEADER_BUDGET = 16L << 20;

  private final long maxBytes;
  private final long maxPixels;

  /** No byte limit of its own (the caller caps the bytes it reads); at most {@code maxPixels} pixels. */
  public UploadValidator(long maxPixels) {
    this(Long.MAX_VALUE, maxPixels);
  }

  public UploadValidator(long maxBytes, long maxPixels) {
    this.maxBytes = maxBytes;
    this.maxPixels = maxPixels;
  }

  /** The limits of {@code upload.max-bytes} and {@code upload.max-pixels}. */
  public static UploadValidator of(AppConfig.Upload upload) {
    return new UploadValidator(upload.maxBytes(), upload.maxPixels());
  }

  public long maxPixels() {
    return maxPixels;
  }

  /** @throws UploadRejected with the API error the client gets */
  public ValidatedImage validate(byte[] bytes) {
    Header h = inspect(bytes, true);
    return new ValidatedImage(h.format(), h.width(), h.height(), sha256(bytes), bytes.length);
  }

  /** An image's format and size, once its container has passed every check. */
  record Header(ImageFormat format, int width, int height) {
    long pixels() {
      return (long) width * height;
    }
  }

  /**
   * Every check but the hash.
   *
   * @param withReader also read the header with the format's ImageIO reader and compare
   */
  Header inspect(byte[] bytes, boolean withReader) {
    if (bytes.length == 0) {
      throw new UploadRejected(ErrorCode.MISSING_FILE, "the image is empty (0 bytes)");
    }
    if (bytes.length > maxBytes) {
      throw new UploadRejected(ErrorCode.PAYLOAD_TOO_LARGE, "the image has " + bytes.length + " bytes; at most "
          + maxBytes + " are accepted");
    }
    ImageFormat format = ImageFormat.sniff(bytes).orElseThrow(() -> new UploadRejected(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE, "not an image in an accepted format (JPEG, PNG, WebP, BMP)"));
    long[] size = {-1, -1};
    ContainerChecks.check(format, bytes, (width, height) -> {
      if (width <= 0 || height <= 0) {
        throw new UploadRejected(ErrorCode.CORRUPT_IMAGE, "the image header declares no pixels");
      }
      long pixels = width * height;
      if (width > Integer.MAX_VALUE || height > Integer.MAX_VALUE || pixels > maxPixels) {
        throw new UploadRejected(ErrorCode.IMAGE_TOO_LARGE, "the image has " + width + "x" + height + " = "
            + pixels + " pixels; at most " + maxPixels + " are accepted");
      }
      size[0] = width;
      size[1] = height;
    });
    if (size[0] < 0) {
      throw new IllegalStateException("the " + format + " check reported no dimensions");
    }
    Header header = new Header(format, (int) size[0], (int) size[1]);
    if (withReader) {
      int[] read = readerDimensions(format, bytes);
      if (read[0] != header.width() || read[1] != header.height()) {
        throw new UploadRejected(ErrorCode.CORRUPT_IMAGE, "the " + format.wire() + " header is ambiguous: "
            + header.width() + "x" + header.height() + " by its structure, " + read[0] + "x" + read[1] + " by its decoder");
      }
    }
    return header;
  }

  private static int[] readerDimensions(ImageFormat format, byte[] bytes) {
    ImageReader reader = reader(format);
    try (ImageInputStream in = new GuardedImageInputStream(bytes, HEADER_BUDGET)) {
      reader.setInput(in, true, true);
      return new int[] {reader.getWidth(0), reader.getHeight(0)};
    } catch (Exception | LinkageError | VirtualMachineError e) {
      LOG.debug("the {} reader could not read a header the structure check passed", format, e);
      throw new UploadRejected(ErrorCode.CORRUPT_IMAGE, "the " + format.wire() + " header cannot be read");
    } finally {
      reader.dispose();
    }
  }

  /** A fresh reader of this format (readers are not thread-safe). */
  static ImageReader reader(ImageFormat format) {
    Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.wire());
    if (!readers.hasNext()) {
      throw new UploadRejected(ErrorCode.UNSUPPORTED_MEDIA_TYPE, format.wire() + " images cannot be read here");
    }
    return readers.next();
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
