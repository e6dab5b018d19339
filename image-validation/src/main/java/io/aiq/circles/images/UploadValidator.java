package io.aiq.circles.images;

import io.aiq.circles.contracts.ErrorCode;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;
import javax.imageio.ImageReader;
import javax.imageio.stream.ImageInputStream;

/**
 * Decides whether an upload is an image we accept, without decoding its pixels.
 *
 * <p>In order: the magic bytes must name an allowed format (else 415); the header, read by the
 * format's ImageIO reader, gives width and height, capped in pixels (else 413, so a "pixel bomb"
 * is refused before anything allocates its raster); and the container must be whole (else 422):
 * PNG chunks with valid CRCs up to IEND, a JPEG end-of-image marker after its scan, BMP and WebP
 * files as long as their headers declare. A full decode happens later, in inference, where a deeper
 * corruption fails the job with a reason. Checking structure instead of decoding keeps an upload at
 * microseconds of CPU, which is what lets the gateway accept thousands a second.
 */
public final class UploadValidator {
  private final long maxPixels;

  public UploadValidator(long maxPixels) {
    this.maxPixels = maxPixels;
  }

  public ValidatedImage validate(byte[] bytes) {
    if (bytes.length == 0) {
      throw new UploadRejected(ErrorCode.MISSING_FILE, "the upload is empty");
    }
    ImageFormat format = ImageFormat.sniff(bytes).orElseThrow(() -> new UploadRejected(
        ErrorCode.UNSUPPORTED_MEDIA_TYPE, "not an image in an accepted format (JPEG, PNG, WebP, BMP)"));
    int[] size = dimensions(format, bytes);
    long pixels = (long) size[0] * size[1];
    if (size[0] <= 0 || size[1] <= 0) {
      throw new UploadRejected(ErrorCode.CORRUPT_IMAGE, "the image header declares no pixels");
    }
    if (pixels > maxPixels) {
      throw new UploadRejected(ErrorCode.IMAGE_TOO_LARGE, "the image has " + size[0] + "x" + size[1] + " = "
          + pixels + " pixels; at most " + maxPixels + " are accepted");
    }
    checkComplete(format, bytes);
    return new ValidatedImage(format, size[0], size[1], sha256(bytes), bytes.length);
  }

  private static int[] dimensions(ImageFormat format, byte[] bytes) {
    try (ImageInputStream in = ImageIO.createImageInputStream(new ByteArrayInputStream(bytes))) {
      Iterator<ImageReader> readers = ImageIO.getImageReadersByFormatName(format.wire());
      if (!readers.hasNext()) {
        throw new UploadRejected(ErrorCode.UNSUPPORTED_MEDIA_TYPE, format.wire() + " images cannot be read here");
      }
      ImageReader reader = readers.next();
      try {
        reader.setInput(in, true, true);
        return new int[] {reader.getWidth(0), reader.getHeight(0)};
      } finally {
        reader.dispose();
      }
    } catch (IOException | RuntimeException e) {
      if (e instanceof UploadRejected r) {
        throw r;
      }
      throw new UploadRejected(ErrorCode.CORRUPT_IMAGE, "the " + format.wire() + " header cannot be read: "
          + (e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage()));
    }
  }

  static void checkComplete(ImageFormat format, byte[] b) {
    switch (format) {
      case PNG -> checkPng(b);
      case JPEG -> checkJpeg(b);
      case BMP -> checkDeclaredLength(b, le32(b, 2), "BMP");
      case WEBP -> checkDeclaredLength(b, le32(b, 4) + 8L, "WebP");
      default -> throw new IllegalStateException(format.name());
    }
  }

  private static void checkPng(byte[] b) {
    int pos = 8;
    boolean first = true;
    CRC32 crc = new CRC32();
    while (true) {
      if (pos + 12 > b.length) {
        throw corrupt("the PNG is truncated (no IEND chunk)");
      }
      long length = ByteBuffer.wrap(b, pos, 4).order(ByteOrder.BIG_ENDIAN).getInt() & 0xffffffffL;
      if (length > b.length - pos - 12L) {
        throw corrupt("the PNG is truncated (a chunk runs past the end of the file)");
      }
      String type = new String(b, pos + 4, 4, java.nio.charset.StandardCharsets.ISO_8859_1);
      if (first && !type.equals("IHDR")) {
        throw corrupt("the PNG does not start with IHDR");
      }
      first = false;
      crc.reset();
      crc.update(b, pos + 4, 4 + (int) length);
      long declared = ByteBuffer.wrap(b, pos + 8 + (int) length, 4).order(ByteOrder.BIG_ENDIAN).getInt() & 0xffffffffL;
      if (crc.getValue() != declared) {
        throw corrupt("the PNG chunk " + type + " fails its CRC check");
      }
      pos += 12 + (int) length;
      if (type.equals("IEND")) {
        return;
      }
    }
  }

  private static void checkJpeg(byte[] b) {
    int pos = 2;
    while (true) {
      if (pos + 4 > b.length) {
        throw corrupt("the JPEG is truncated (no image data)");
      }
      if ((b[pos] & 0xff) != 0xFF) {
        throw corrupt("the JPEG has a malformed segment at byte " + pos);
      }
      int marker = b[pos + 1] & 0xff;
      if (marker == 0xFF) {
        pos++; // fill byte
        continue;
      }
      if (marker == 0xD9) {
        throw corrupt("the JPEG ends before its image data");
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        pos += 2;
        continue;
      }
      int length = ((b[pos + 2] & 0xff) << 8) | (b[pos + 3] & 0xff);
      if (length < 2 || pos + 2 + length > b.length) {
        throw corrupt("the JPEG is truncated (a segment runs past the end of the file)");
      }
      if (marker == 0xDA) {
        // entropy-coded data follows; a whole file has an end-of-image marker after it (cameras
        // may append their own bytes after that, which is harmless)
        for (int i = b.length - 2; i >= pos + 2 + length; i--) {
          if ((b[i] & 0xff) == 0xFF && (b[i + 1] & 0xff) == 0xD9) {
            return;
          }
        }
        throw corrupt("the JPEG is truncated (no end-of-image marker)");
      }
      pos += 2 + length;
    }
  }

  private static void checkDeclaredLength(byte[] b, long declared, String name) {
    if (declared > b.length) {
      throw corrupt("the " + name + " is truncated: its header declares " + declared + " bytes, "
          + b.length + " arrived");
    }
  }

  private static long le32(byte[] b, int pos) {
    return ByteBuffer.wrap(b, pos, 4).order(ByteOrder.LITTLE_ENDIAN).getInt() & 0xffffffffL;
  }

  private static UploadRejected corrupt(String message) {
    return new UploadRejected(ErrorCode.CORRUPT_IMAGE, message);
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
