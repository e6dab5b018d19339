package io.aiq.circles.images;

import io.aiq.circles.contracts.ErrorCode;
import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.zip.CRC32;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;

/**
 * Reads an image's container (its headers, chunks and segments, never its pixels) and refuses what
 * would make a decoder allocate or trust something the file does not hold. Each format's rules, in
 * the order they are met:
 *
 * <ul>
 *   <li><b>BMP</b>: a known info-header size (12, 40, 52, 56, 108, 124; OS/2's 64 is refused), one
 *       plane, a bit depth its compression allows (uncompressed 1/4/8/16/24/32, RLE8 8, RLE4 4,
 *       bitfields 16/32), a width above 0 and a height other than 0 (negative: top-down, uncompressed
 *       only). Embedded JPEG/PNG (compression 4/5), other compressions and colour profiles (linked or
 *       embedded) are refused as unsupported. The palette, the bitfield masks and the pixel data must
 *       lie inside the file where the header says they are: {@code bfOffBits}, {@code biSizeImage},
 *       {@code biClrUsed}, and for uncompressed pixels the whole array the width, height and depth
 *       need.
 *   <li><b>PNG</b>: IHDR first, 13 bytes, once, with a width and height from 1 to 2^31-1, a valid bit
 *       depth for its colour type, compression 0, filter 0, interlace 0 or 1. Every chunk until IEND:
 *       a length under 2^31 that stays inside the file, a name of letters, a matching CRC; no unknown
 *       critical chunk; PLTE once, before IDAT, 1 to 256 entries, not for greyscale, present for
 *       palette images; IDAT chunks consecutive; IEND empty. Compressed metadata (iCCP, zTXt,
 *       compressed iTXt) must inflate, to {@value #MAX_INFLATED_METADATA} bytes at most in all.
 *   <li><b>JPEG</b>: segments whose lengths stay inside the file, from SOI to EOI; one frame header,
 *       before the first scan, of a coding ImageIO and TensorFlow decode (baseline, extended or
 *       progressive Huffman, 8-bit, 1, 3 or 4 components with sampling factors 1 to 4), with a width
 *       and height from 1 to {@value #MAX_JPEG_SIDE}; scan headers of 1 to 4 components; the
 *       entropy-coded data walked to the next marker, through every scan, to EOI.
 *   <li><b>WebP</b>: a RIFF size inside the file; chunks inside the RIFF size; a VP8 key frame (its
 *       first partition inside its chunk, the start code, a width and height above 0), a VP8L header
 *       (signature, version 0) or a VP8X header whose canvas is checked against the pixel limit and
 *       must match the one image bitstream it holds. Animation is refused as unsupported.
 * </ul>
 *
 * <p>Every read is bounds-checked: a field past the end of the file is "truncated" (422), never an
 * index exception. Dimensions are reported to the caller as soon as the header gives them, so the
 * pixel limit (413) is checked before the rest of the file is walked.
 */
final class ContainerChecks {
  /** Compressed PNG metadata may inflate to this many bytes, all chunks together. */
  static final int MAX_INFLATED_METADATA = 4 * 1024 * 1024;
  /** libjpeg's (and so TensorFlow's) largest side. */
  static final int MAX_JPEG_SIDE = 65500;

  /** Told the image's size as soon as the header declares it; throws to refuse it. */
  interface Dimensions {
    void check(long width, long height);
  }

  private ContainerChecks() {
  }

  static void check(ImageFormat format, byte[] b, Dimensions dims) {
    switch (format) {
      case BMP -> bmp(b, dims);
      case PNG -> png(b, dims);
      case JPEG -> jpeg(b, dims);
      case WEBP -> webp(b, dims);
      default -> throw new IllegalStateException(format.name());
    }
  }

  // ---- BMP ----------------------------------------------------------------------------------------

  private static final int BI_RGB = 0;
  private static final int BI_RLE8 = 1;
  private static final int BI_RLE4 = 2;
  private static final int BI_BITFIELDS = 3;
  private static final int BI_JPEG = 4;
  private static final int BI_PNG = 5;
  private static final long LCS_PROFILE_LINKED = 0x4C494E4BL; // 'LINK'
  private static final long LCS_PROFILE_EMBEDDED = 0x4D424544L; // 'MBED'

  private static void bmp(byte[] b, Dimensions dims) {
    long declaredSize = le32(b, 2, "BMP");
    if (declaredSize > b.length) {
      throw corrupt("the BMP is truncated: its header declares " + declaredSize + " bytes, " + b.length + " arrived");
    }
    long offBits = le32(b, 10, "BMP");
    long headerSize = le32(b, 14, "BMP");
    if (headerSize == 64) {
      throw unsupported("OS/2 2.x BMP headers are not accepted");
    }
    if (headerSize != 12 && headerSize != 40 && headerSize != 52 && headerSize != 56 && headerSize != 108
        && headerSize != 124) {
      throw corrupt("the BMP info header has an unknown size (" + headerSize + " bytes)");
    }
    need(b, 14, headerSize, "BMP");
    long width;
    long height;
    int planes;
    int bpp;
    long compression = BI_RGB;
    long sizeImage = 0;
    long colorsUsed = 0;
    if (headerSize == 12) {
      width = (short) le16(b, 18, "BMP");
      height = (short) le16(b, 20, "BMP");
      planes = le16(b, 22, "BMP");
      bpp = le16(b, 24, "BMP");
    } else {
      width = (int) le32(b, 18, "BMP");
      height = (int) le32(b, 22, "BMP");
      planes = le16(b, 26, "BMP");
      bpp = le16(b, 28, "BMP");
      compression = le32(b, 30, "BMP");
      sizeImage = le32(b, 34, "BMP");
      colorsUsed = le32(b, 46, "BMP");
    }
    if (planes != 1) {
      throw corrupt("the BMP declares " + planes + " colour planes (1 is the only valid value)");
    }
    if (compression == BI_JPEG || compression == BI_PNG) {
      throw unsupported("BMP files with an embedded " + (compression == BI_JPEG ? "JPEG" : "PNG")
          + " are not accepted; send the JPEG or PNG itself");
    }
    if (compression > BI_BITFIELDS) {
      throw unsupported("BMP compression " + compression + " is not accepted (only uncompressed, RLE4, RLE8 and bitfields)");
    }
    boolean depthOk = switch ((int) compression) {
      case BI_RGB -> headerSize == 12 ? (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 24)
          : (bpp == 1 || bpp == 4 || bpp == 8 || bpp == 16 || bpp == 24 || bpp == 32);
      case BI_RLE8 -> bpp == 8;
      case BI_RLE4 -> bpp == 4;
      default -> bpp == 16 || bpp == 32;
    };
    if (!depthOk) {
      throw corrupt("the BMP declares " + bpp + " bits per pixel, which its compression (" + compression + ") does not allow");
    }
    if (width <= 0) {
      throw corrupt("the BMP declares a width of " + width + " pixels");
    }
    if (height == 0 || height == Integer.MIN_VALUE) {
      throw corrupt("the BMP declares a height of " + height + " pixels");
    }
    if (height < 0 && compression != BI_RGB && compression != BI_BITFIELDS) {
      throw corrupt("the BMP is top-down (negative height) and compressed, which the format does not allow");
    }
    long rows = Math.abs(height);
    dims.check(width, rows);
    if (headerSize >= 108) {
      long csType = le32(b, 14 + 56, "BMP");
      if (csType == LCS_PROFILE_LINKED || csType == LCS_PROFILE_EMBEDDED) {
        throw unsupported("BMP colour profiles (" + (csType == LCS_PROFILE_LINKED ? "linked" : "embedded")
            + ") are not accepted");
      }
    }
    // what sits between the headers and the pixels: masks after a 40-byte header, then the palette
    long masks = headerSize == 40 && compression == BI_BITFIELDS ? 12 : 0;
    long maxColors = bpp <= 8 ? 1L << bpp : 1L << 24;
    if (colorsUsed > maxColors) {
      throw corrupt("the BMP declares a palette of " + colorsUsed + " colours for " + bpp + " bits per pixel");
    }
    long paletteEntries = colorsUsed != 0 ? colorsUsed : bpp <= 8 ? 1L << bpp : 0;
    long paletteBytes = paletteEntries * (headerSize == 12 ? 3 : 4);
    long headersEnd = 14 + headerSize + masks;
    if (offBits > b.length) {
      throw corrupt("the BMP's pixel data offset (" + offBits + ") is beyond the end of the file (" + b.length + " bytes)");
    }
    if (offBits < headersEnd) {
      throw corrupt("the BMP's pixel data offset (" + offBits + ") points inside its headers (" + headersEnd + " bytes)");
    }
    if (colorsUsed != 0 && headersEnd + paletteBytes > offBits) {
      throw corrupt("the BMP's palette of " + colorsUsed + " colours does not fit before its pixel data");
    }
    long available = b.length - offBits;
    if (sizeImage > available) {
      throw corrupt("the BMP declares " + sizeImage + " bytes of pixel data; the file holds " + available
          + " after its headers");
    }
    if (compression == BI_RLE4 || compression == BI_RLE8) {
      if (sizeImage == 0) {
        throw corrupt("the RLE-compressed BMP does not declare the size of its pixel data");
      }
      return;
    }
    long rowBytes = (width * bpp + 31) / 32 * 4;
    if (rowBytes > available || rowBytes * rows > available) {
      throw corrupt("the BMP is truncated: " + width + "x" + rows + " pixels at " + bpp + " bits need "
          + (rowBytes > available ? "more than " + available : rowBytes * rows) + " bytes of pixel data, the file holds "
          + available);
    }
  }

  // ---- PNG ----------------------------------------------------------------------------------------

  private static final int COLOR_GRAY = 0;
  private static final int COLOR_RGB = 2;
  private static final int COLOR_PALETTE = 3;
  private static final int COLOR_GRAY_ALPHA = 4;
  private static final int COLOR_RGBA = 6;

  private static void png(byte[] b, Dimensions dims) {
    need(b, 8, 8 + 13 + 4, "PNG");
    if (be32(b, 8) != 13 || !type(b, 12).equals("IHDR")) {
      throw corrupt("the PNG does not start with a 13-byte IHDR chunk");
    }
    long width = be32(b, 16);
    long height = be32(b, 20);
    int depth = b[24] & 0xff;
    int colorType = b[25] & 0xff;
    if (width == 0 || height == 0 || width > Integer.MAX_VALUE || height > Integer.MAX_VALUE) {
      throw corrupt("the PNG declares " + width + "x" + height + " pixels (each side must be 1 to 2^31-1)");
    }
    boolean valid = switch (colorType) {
      case COLOR_GRAY -> depth == 1 || depth == 2 || depth == 4 || depth == 8 || depth == 16;
      case COLOR_PALETTE -> depth == 1 || depth == 2 || depth == 4 || depth == 8;
      case COLOR_RGB, COLOR_GRAY_ALPHA, COLOR_RGBA -> depth == 8 || depth == 16;
      default -> false;
    };
    if (!valid) {
      throw corrupt("the PNG declares bit depth " + depth + " with colour type " + colorType + ", an invalid combination");
    }
    if (b[26] != 0 || b[27] != 0 || (b[28] != 0 && b[28] != 1)) {
      throw corrupt("the PNG declares compression " + b[26] + ", filter " + b[27] + ", interlace " + b[28]
          + " (only 0, 0 and 0 or 1 exist)");
    }
    dims.check(width, height);
    int pos = 8;
    boolean seenPalette = false;
    int idatRun = 0; // 0 none yet, 1 inside the IDAT run, 2 after it
    long[] inflateBudget = {MAX_INFLATED_METADATA};
    CRC32 crc = new CRC32();
    while (true) {
      if (pos + 12L > b.length) {
        throw corrupt("the PNG is truncated (no IEND chunk)");
      }
      long length = be32(b, pos);
      if (length > Integer.MAX_VALUE) {
        throw corrupt("a PNG chunk declares " + length + " bytes (at most 2^31-1 are valid)");
      }
      if (length > b.length - pos - 12L) {
        throw corrupt("the PNG is truncated (a chunk runs past the end of the file)");
      }
      int len = (int) length;
      for (int i = pos + 4; i < pos + 8; i++) {
        int c = b[i] & 0xff;
        if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'))) {
          throw corrupt("the PNG has a chunk whose name is not four letters");
        }
      }
      String type = type(b, pos + 4);
      crc.reset();
      crc.update(b, pos + 4, 4 + len);
      if (crc.getValue() != be32(b, pos + 8 + len)) {
        throw corrupt("the PNG chunk " + type + " fails its CRC check");
      }
      int data = pos + 8;
      if (idatRun == 1 && !type.equals("IDAT")) {
        idatRun = 2;
      }
      switch (type) {
        case "IHDR" -> {
          if (pos != 8) {
            throw corrupt("the PNG has more than one IHDR chunk");
          }
        }
        case "PLTE" -> {
          if (seenPalette || idatRun != 0) {
            throw corrupt("the PNG has a second palette, or one after its image data");
          }
          if (colorType == COLOR_GRAY || colorType == COLOR_GRAY_ALPHA) {
            throw corrupt("the greyscale PNG has a palette");
          }
          if (len == 0 || len % 3 != 0 || len > 3 * 256) {
            throw corrupt("the PNG palette is " + len + " bytes (1 to 256 entries of 3 bytes)");
          }
          seenPalette = true;
        }
        case "IDAT" -> {
          if (idatRun == 2) {
            throw corrupt("the PNG's image data chunks are not consecutive");
          }
          if (colorType == COLOR_PALETTE && !seenPalette) {
            throw corrupt("the palette PNG has no palette before its image data");
          }
          idatRun = 1;
        }
        case "IEND" -> {
          if (idatRun == 0) {
            throw corrupt("the PNG has no image data");
          }
          if (len != 0) {
            throw corrupt("the PNG's IEND chunk is not empty");
          }
          return; // bytes after IEND are ignored by every decoder
        }
        case "iCCP", "zTXt" -> {
          int method = afterKeyword(b, data, len, type);
          inflateMetadata(b, type, method, method + 1, data + len, inflateBudget);
        }
        case "iTXt" -> {
          int flag = afterKeyword(b, data, len, type);
          if (flag + 2 > data + len) {
            throw corrupt("the PNG's iTXt chunk is truncated");
          }
          if (b[flag] == 1) {
            int text = flag + 2;
            for (int k = 0; k < 2; k++) { // language tag, translated keyword
              while (text < data + len && b[text] != 0) {
                text++;
              }
              text++;
            }
            if (text > data + len) {
              throw corrupt("the PNG's iTXt chunk is truncated");
            }
            inflateMetadata(b, type, flag + 1, text, data + len, inflateBudget);
          }
        }
        default -> {
          if (Character.isUpperCase(type.charAt(0))) {
            throw corrupt("the PNG has an unknown critical chunk " + type);
          }
        }
      }
      pos += 12 + len;
    }
  }

  /** The offset just after a chunk's keyword and its NUL (1 to 79 bytes of keyword). */
  private static int afterKeyword(byte[] b, int data, int len, String type) {
    int end = Math.min(data + len, data + 80);
    for (int i = data; i < end; i++) {
      if (b[i] == 0) {
        if (i == data) {
          break;
        }
        if (i + 1 > data + len) {
          break;
        }
        return i + 1;
      }
    }
    throw corrupt("the PNG's " + type + " chunk has no valid keyword");
  }

  /** Inflates compressed metadata into nothing, within the budget: a zip bomb stops here. */
  private static void inflateMetadata(byte[] b, String type, int method, int from, int to, long[] budget) {
    if (method >= to || b[method] != 0 || from > to) {
      // only compression method 0 (deflate) exists
      throw corrupt("the PNG's " + type + " chunk has an unknown compression method");
    }
    Inflater inflater = new Inflater();
    try {
      inflater.setInput(b, from, to - from);
      byte[] sink = new byte[8192];
      while (!inflater.finished()) {
        int n = inflater.inflate(sink);
        if (n == 0 && (inflater.needsInput() || inflater.needsDictionary())) {
          throw corrupt("the PNG's " + type + " chunk holds truncated compressed data");
        }
        budget[0] -= n;
        if (budget[0] < 0) {
          throw new UploadRejected(ErrorCode.IMAGE_TOO_LARGE, "the PNG's compressed metadata inflates to more than "
              + MAX_INFLATED_METADATA + " bytes");
        }
      }
    } catch (DataFormatException e) {
      throw corrupt("the PNG's " + type + " chunk holds corrupt compressed data");
    } finally {
      inflater.end();
    }
  }

  // ---- JPEG ---------------------------------------------------------------------------------------

  private static void jpeg(byte[] b, Dimensions dims) {
    int pos = 2;
    boolean frame = false;
    boolean scanned = false;
    while (true) {
      if (pos + 2 > b.length) {
        throw corrupt(scanned ? "the JPEG is truncated (no end-of-image marker)" : "the JPEG is truncated (no image data)");
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
        if (!scanned) {
          throw corrupt("the JPEG ends before its image data");
        }
        return; // cameras may append their own bytes after the end of image, which is harmless
      }
      if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) {
        pos += 2;
        continue;
      }
      if (marker == 0x00 || marker == 0xD8) {
        throw corrupt("the JPEG has a malformed segment at byte " + pos);
      }
      if (pos + 4 > b.length) {
        throw corrupt("the JPEG is truncated (a segment runs past the end of the file)");
      }
      int length = ((b[pos + 2] & 0xff) << 8) | (b[pos + 3] & 0xff);
      if (length < 2 || pos + 2 + length > b.length) {
        throw corrupt("the JPEG is truncated (a segment runs past the end of the file)");
      }
      int seg = pos + 4;
      boolean sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) {
        if (frame) {
          throw corrupt("the JPEG has more than one frame header");
        }
        frame = true;
        if (marker != 0xC0 && marker != 0xC1 && marker != 0xC2) {
          throw unsupported("the JPEG uses " + jpegCoding(marker) + " coding; only baseline, extended and progressive "
              + "Huffman-coded JPEGs are accepted");
        }
        if (length < 8) {
          throw corrupt("the JPEG frame header is truncated");
        }
        int precision = b[seg] & 0xff;
        int height = ((b[seg + 1] & 0xff) << 8) | (b[seg + 2] & 0xff);
        int width = ((b[seg + 3] & 0xff) << 8) | (b[seg + 4] & 0xff);
        int components = b[seg + 5] & 0xff;
        if (length != 8 + 3 * components) {
          throw corrupt("the JPEG frame header's length does not match its " + components + " components");
        }
        if (precision != 8) {
          throw unsupported("the JPEG has " + precision + "-bit samples; only 8-bit JPEGs are accepted");
        }
        if (width == 0 || height == 0) {
          throw corrupt("the JPEG declares " + width + "x" + height + " pixels");
        }
        if (width > MAX_JPEG_SIDE || height > MAX_JPEG_SIDE) {
          throw new UploadRejected(ErrorCode.IMAGE_TOO_LARGE, "the JPEG is " + width + "x" + height
              + " pixels; a side may be at most " + MAX_JPEG_SIDE);
        }
        if (components == 0) {
          throw corrupt("the JPEG declares no colour components");
        }
        if (components != 1 && components != 3 && components != 4) {
          throw unsupported("the JPEG has " + components + " colour components; 1, 3 or 4 are accepted");
        }
        for (int c = 0; c < components; c++) {
          int id = b[seg + 6 + 3 * c] & 0xff;
          int sampling = b[seg + 7 + 3 * c] & 0xff;
          int table = b[seg + 8 + 3 * c] & 0xff;
          int h = sampling >> 4;
          int v = sampling & 0x0f;
          if (h < 1 || h > 4 || v < 1 || v > 4 || table > 3) {
            throw corrupt("the JPEG frame header has an invalid component (sampling " + h + "x" + v + ", table " + table + ")");
          }
          for (int o = 0; o < c; o++) {
            if ((b[seg + 6 + 3 * o] & 0xff) == id) {
              throw corrupt("the JPEG frame header names a component twice");
            }
          }
        }
        dims.check(width, height);
        pos += 2 + length;
        continue;
      }
      if (marker == 0xDA) {
        if (!frame) {
          throw corrupt("the JPEG has a scan before its frame header");
        }
        int count = length >= 3 ? b[seg] & 0xff : 0;
        if (count < 1 || count > 4 || length != 6 + 2 * count) {
          throw corrupt("the JPEG has a malformed scan header");
        }
        scanned = true;
        // entropy-coded data up to the next marker: 0xFF is followed by 0x00 (a stuffed byte), a
        // restart marker, or a fill byte inside the data; anything else starts a segment
        int i = pos + 2 + length;
        while (true) {
          // eight bytes at a time while none of them is 0xFF (most of a photo's bytes)
          while (i + 8 < b.length && !hasFF((long) LONGS.get(b, i))) {
            i += 8;
          }
          if (i + 1 >= b.length) {
            throw corrupt("the JPEG is truncated (no end-of-image marker)");
          }
          if ((b[i] & 0xff) == 0xFF) {
            int next = b[i + 1] & 0xff;
            if (next != 0x00 && !(next >= 0xD0 && next <= 0xD7) && next != 0xFF) {
              break;
            }
            i += next == 0xFF ? 1 : 2;
          } else {
            i++;
          }
        }
        pos = i;
        continue;
      }
      pos += 2 + length;
    }
  }

  private static final VarHandle LONGS = MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  /** Whether a byte of the word is 0xFF: a zero byte of its complement. */
  private static boolean hasFF(long word) {
    long v = ~word;
    return ((v - 0x0101010101010101L) & ~v & 0x8080808080808080L) != 0;
  }

  private static String jpegCoding(int marker) {
    return switch (marker) {
      case 0xC3 -> "lossless";
      case 0xC5, 0xC6, 0xC7 -> "hierarchical";
      case 0xCB, 0xCF -> "lossless arithmetic";
      default -> "arithmetic";
    };
  }

  // ---- WebP ---------------------------------------------------------------------------------------

  private static final int VP8X_ANIMATION = 0x02;

  private static void webp(byte[] b, Dimensions dims) {
    long riffEnd = le32(b, 4, "WebP") + 8L;
    if (riffEnd > b.length) {
      throw corrupt("the WebP is truncated: its header declares " + riffEnd + " bytes, " + b.length + " arrived");
    }
    if (riffEnd < 12 + 8) {
      throw corrupt("the WebP's RIFF size (" + (riffEnd - 8) + ") leaves no room for an image");
    }
    int pos = 12;
    long canvasW = -1;
    long canvasH = -1;
    boolean image = false;
    boolean first = true;
    while (pos < riffEnd) {
      if (pos + 8L > riffEnd) {
        throw corrupt("the WebP has a chunk header past its RIFF size");
      }
      String type = new String(b, pos, 4, StandardCharsets.ISO_8859_1);
      long size = le32(b, pos + 4, "WebP");
      int data = pos + 8;
      if (data + size > riffEnd) {
        throw corrupt("the WebP chunk '" + type.trim() + "' declares " + size + " bytes, past the end of the file's "
            + "RIFF size");
      }
      int len = (int) size;
      if (first) {
        first = false;
        switch (type) {
          case "VP8 ", "VP8L" -> {
            long[] wh = type.equals("VP8 ") ? vp8(b, data, len) : vp8l(b, data, len);
            dims.check(wh[0], wh[1]);
            return; // a simple file: one chunk, the image
          }
          case "VP8X" -> {
            if (len < 10) {
              throw corrupt("the WebP's VP8X chunk is " + len + " bytes (10 expected)");
            }
            if ((b[data] & VP8X_ANIMATION) != 0) {
              throw unsupported("animated WebP is not accepted");
            }
            canvasW = 1 + le24(b, data + 4);
            canvasH = 1 + le24(b, data + 7);
            dims.check(canvasW, canvasH);
          }
          default -> throw corrupt("the WebP does not start with a VP8, VP8L or VP8X chunk");
        }
      } else {
        switch (type) {
          case "ANIM", "ANMF" -> throw unsupported("animated WebP is not accepted");
          case "VP8X" -> throw corrupt("the WebP has a second VP8X chunk");
          case "VP8 ", "VP8L" -> {
            if (image) {
              throw corrupt("the WebP holds more than one image bitstream");
            }
            image = true;
            long[] wh = type.equals("VP8 ") ? vp8(b, data, len) : vp8l(b, data, len);
            if (wh[0] != canvasW || wh[1] != canvasH) {
              throw corrupt("the WebP's image is " + wh[0] + "x" + wh[1] + " but its canvas " + canvasW + "x" + canvasH);
            }
          }
          default -> {
            // ICCP, ALPH, EXIF, XMP and unknown chunks: decoders skip what they do not use
          }
        }
      }
      pos = data + len + (len & 1);
    }
    if (!image) {
      throw corrupt("the WebP has no image bitstream");
    }
  }

  /** A VP8 key frame's header: the frame tag, the start code, 14-bit width and height. */
  private static long[] vp8(byte[] b, int data, int len) {
    if (len < 10) {
      throw corrupt("the WebP's VP8 chunk is too short for a frame header");
    }
    int tag = (b[data] & 0xff) | (b[data + 1] & 0xff) << 8 | (b[data + 2] & 0xff) << 16;
    if ((tag & 1) != 0) {
      throw corrupt("the WebP's VP8 bitstream is not a key frame");
    }
    if (((tag >> 1) & 7) > 3) {
      throw corrupt("the WebP's VP8 bitstream has an unknown version");
    }
    long firstPartition = (tag >> 5) & 0x7FFFF;
    if (firstPartition > len - 10L) {
      throw corrupt("the WebP's VP8 first partition (" + firstPartition + " bytes) runs past its chunk");
    }
    if ((b[data + 3] & 0xff) != 0x9D || (b[data + 4] & 0xff) != 0x01 || (b[data + 5] & 0xff) != 0x2A) {
      throw corrupt("the WebP's VP8 bitstream lacks its start code");
    }
    long width = le16(b, data + 6, "WebP") & 0x3FFF;
    long height = le16(b, data + 8, "WebP") & 0x3FFF;
    if (width == 0 || height == 0) {
      throw corrupt("the WebP declares " + width + "x" + height + " pixels");
    }
    return new long[] {width, height};
  }

  /** A VP8L header: signature 0x2F, 14-bit width-1 and height-1, alpha hint, version 0. */
  private static long[] vp8l(byte[] b, int data, int len) {
    if (len < 5) {
      throw corrupt("the WebP's VP8L chunk is too short for its header");
    }
    if ((b[data] & 0xff) != 0x2F) {
      throw corrupt("the WebP's VP8L bitstream lacks its signature");
    }
    long bits = le32(b, data + 1, "WebP");
    if ((bits >>> 29) != 0) {
      throw corrupt("the WebP's VP8L bitstream has an unknown version");
    }
    return new long[] {(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1};
  }

  // ---- reading ------------------------------------------------------------------------------------

  private static void need(byte[] b, long pos, long n, String name) {
    if (pos + n > b.length) {
      throw corrupt("the " + name + " is truncated (its header runs past the end of the file)");
    }
  }

  private static int le16(byte[] b, int pos, String name) {
    need(b, pos, 2, name);
    return (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8;
  }

  private static long le24(byte[] b, int pos) {
    return (b[pos] & 0xff) | (b[pos + 1] & 0xff) << 8 | (b[pos + 2] & 0xff) << 16;
  }

  static long le32(byte[] b, int pos, String name) {
    need(b, pos, 4, name);
    return ((b[pos] & 0xffL) | (b[pos + 1] & 0xffL) << 8 | (b[pos + 2] & 0xffL) << 16 | (b[pos + 3] & 0xffL) << 24);
  }

  /** Callers have checked the bounds. */
  private static long be32(byte[] b, int pos) {
    return (b[pos] & 0xffL) << 24 | (b[pos + 1] & 0xffL) << 16 | (b[pos + 2] & 0xffL) << 8 | (b[pos + 3] & 0xffL);
  }

  private static String type(byte[] b, int pos) {
    return new String(b, pos, 4, StandardCharsets.ISO_8859_1);
  }

  static UploadRejected corrupt(String message) {
    return new UploadRejected(ErrorCode.CORRUPT_IMAGE, message);
  }

  static UploadRejected unsupported(String message) {
    return new UploadRejected(ErrorCode.UNSUPPORTED_MEDIA_TYPE, message);
  }
}
