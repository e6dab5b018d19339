package io.aiq.circles.images;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Base64;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;
import javax.imageio.IIOImage;
import javax.imageio.ImageIO;
import javax.imageio.ImageWriteParam;
import javax.imageio.ImageWriter;
import javax.imageio.stream.MemoryCacheImageOutputStream;

/**
 * Image files of every accepted format and flavour, made on the spot (ImageIO writes JPEG, PNG and
 * BMP; WebP is written here by hand, since no WebP writer is at hand), and the coins-dev photos.
 */
final class TestFiles {
  /**
   * A 16×16 lossy WebP with alpha (VP8X + ALPH + VP8), 432 bytes: CPython's test image
   * {@code Lib/test/imghdrdata/python.webp}.
   */
  static final byte[] WEBP_LOSSY_ALPHA = Base64.getDecoder().decode(
      "UklGRqgBAABXRUJQVlA4WAoAAAAQAAAADwAADwAAQUxQSMMAAAABJ6KokSTleucYX+ffKpmImP90cY3gJjDi4Yt3MsjBEVyDKzDosHgVjnhR"
          + "NcEIDAJPkqBqsFUZHNa2bUYvTsZ2PLbtd/uvKa4hov9J0f2PkPe6REkkGzolkTTzFG0Ox9PlFiD0CxS+kOGDtxoynjaCfx0pfk52CPuInrOR"
          + "75lzRugygtv4zEiy90UwfSD9NheMITJWLaXWayO8XeOlWRXVnIGk2W6WdYoYMQ+KqixQNPowgt+6a1BSKbUtz+lUFAoBAAAAVlA4IL4AAACQ"
          + "AgCdASoQABAAAwA0JbACdDBPCIUMfAMdCCz96AD+/XSg/QKbH4r3Q3ycN/bSDK/T/zVo4u6nvclvG/SqxWOuup+XhN9BojvaW+Tv+MvxvX/h"
          + "r/o/5Qns9LtmX/+qKdl/yWznhuasl7nkxvSTI4xf3Y85VSB/lU/8Ofj/b9JrA+ifvIOYZm2x1RP/dhfmsf5diuSfR7+z+r/+HR3zEo/+XM/B"
          + "+vkYw73Pzx+ROaAB/ZoBSzEs3rzZe6qsAAAA");

  /** A 1×1 lossless WebP (the one the validator test has always used). */
  static final byte[] WEBP_1X1 = Base64.getDecoder().decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");

  private TestFiles() {
  }

  // ---- pictures -----------------------------------------------------------------------------------

  /** Discs on a background, in any BufferedImage type. */
  static BufferedImage discs(int width, int height, int type, int seed) {
    BufferedImage img = new BufferedImage(width, height, type);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(40 + seed * 37 % 200, 90, 140));
    g.fillRect(0, 0, width, height);
    g.setColor(new Color(200, 170, 60 + seed * 13 % 150, 220));
    for (int i = 0; i < 3; i++) {
      int r = Math.max(1, Math.min(width, height) / 8);
      g.fillOval(width * (i + 1) / 4 - r, height / 2 - r, 2 * r, 2 * r);
    }
    g.dispose();
    return img;
  }

  // ---- ImageIO-written files ----------------------------------------------------------------------

  static byte[] jpeg(BufferedImage img, boolean progressive) {
    return write(img, "jpeg", p -> {
      if (progressive) {
        p.setProgressiveMode(ImageWriteParam.MODE_DEFAULT);
      }
    });
  }

  static byte[] png(BufferedImage img, boolean interlaced) {
    return write(img, "png", p -> p.setProgressiveMode(interlaced ? ImageWriteParam.MODE_DEFAULT : ImageWriteParam.MODE_DISABLED));
  }

  /** @param compression BI_RGB, BI_RLE8, BI_RLE4, BI_BITFIELDS, BI_PNG, BI_JPEG, or null for the writer's default */
  static byte[] bmp(BufferedImage img, String compression) {
    return write(img, "bmp", p -> {
      if (compression != null) {
        p.setCompressionMode(ImageWriteParam.MODE_EXPLICIT);
        p.setCompressionType(compression);
      }
    });
  }

  private static byte[] write(BufferedImage img, String format, java.util.function.Consumer<ImageWriteParam> setup) {
    ImageWriter writer = ImageIO.getImageWritersByFormatName(format).next();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (MemoryCacheImageOutputStream stream = new MemoryCacheImageOutputStream(out)) {
      writer.setOutput(stream);
      ImageWriteParam param = writer.getDefaultWriteParam();
      setup.accept(param);
      writer.write(null, new IIOImage(img, null, null), param);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } finally {
      writer.dispose();
    }
    return out.toByteArray();
  }

  // ---- PNG surgery --------------------------------------------------------------------------------

  /** A PNG chunk: length, type, data, CRC. */
  static byte[] pngChunk(String type, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(12 + data.length);
    b.putInt(data.length).put(type.getBytes(StandardCharsets.ISO_8859_1)).put(data);
    CRC32 crc = new CRC32();
    crc.update(b.array(), 4, 4 + data.length);
    b.putInt((int) crc.getValue());
    return b.array();
  }

  /** The PNG with a chunk inserted just after IHDR. */
  static byte[] pngWithChunk(byte[] png, byte[] chunk) {
    int at = 8 + 12 + 13;
    return concat(java.util.Arrays.copyOf(png, at), chunk, java.util.Arrays.copyOfRange(png, at, png.length));
  }

  /** The PNG with its IHDR data replaced (and the CRC made right again). */
  static byte[] pngWithHeader(byte[] png, int width, int height, int depth, int colorType, int compression,
                              int filter, int interlace) {
    byte[] out = png.clone();
    ByteBuffer b = ByteBuffer.wrap(out);
    b.putInt(16, width).putInt(20, height);
    out[24] = (byte) depth;
    out[25] = (byte) colorType;
    out[26] = (byte) compression;
    out[27] = (byte) filter;
    out[28] = (byte) interlace;
    fixCrc(out, 8);
    return out;
  }

  /** Recomputes the CRC of the chunk at {@code pos}. */
  static void fixCrc(byte[] png, int pos) {
    int len = ByteBuffer.wrap(png, pos, 4).getInt();
    CRC32 crc = new CRC32();
    crc.update(png, pos + 4, 4 + len);
    ByteBuffer.wrap(png).putInt(pos + 8 + len, (int) crc.getValue());
  }

  static byte[] deflate(byte[] data) {
    Deflater d = new Deflater(9);
    d.setInput(data);
    d.finish();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    byte[] buf = new byte[65536];
    while (!d.finished()) {
      out.write(buf, 0, d.deflate(buf));
    }
    d.end();
    return out.toByteArray();
  }

  // ---- BMP by hand --------------------------------------------------------------------------------

  /**
   * A BMP whose info header declares {@code compression} (4: BI_JPEG, 5: BI_PNG) and
   * {@code sizeImage}, holding {@code embedded} as its pixel data, padded to {@code total} bytes.
   */
  static byte[] bmpEmbedding(byte[] embedded, int compression, long sizeImage, int total) {
    ByteBuffer b = ByteBuffer.allocate(Math.max(total, 54 + embedded.length)).order(ByteOrder.LITTLE_ENDIAN);
    b.put((byte) 'B').put((byte) 'M').putInt(b.capacity()).putInt(0).putInt(54);
    b.putInt(40).putInt(1).putInt(1).putShort((short) 1).putShort((short) 0).putInt(compression)
        .putInt((int) sizeImage).putInt(2835).putInt(2835).putInt(0).putInt(0);
    b.put(embedded);
    return b.array();
  }

  // ---- WebP by hand -------------------------------------------------------------------------------

  /** RIFF/WEBP around chunks (each already with its header and padding). */
  static byte[] riff(byte[]... chunks) {
    byte[] body = concat(chunks);
    ByteBuffer b = ByteBuffer.allocate(12 + body.length).order(ByteOrder.LITTLE_ENDIAN);
    b.put("RIFF".getBytes(StandardCharsets.ISO_8859_1)).putInt(4 + body.length)
        .put("WEBP".getBytes(StandardCharsets.ISO_8859_1)).put(body);
    return b.array();
  }

  static byte[] webpChunk(String fourcc, byte[] data) {
    ByteBuffer b = ByteBuffer.allocate(8 + data.length + (data.length & 1)).order(ByteOrder.LITTLE_ENDIAN);
    b.put(fourcc.getBytes(StandardCharsets.ISO_8859_1)).putInt(data.length).put(data);
    return b.array();
  }

  /** The chunk {@code fourcc}'s data in a WebP file. */
  static byte[] webpChunkData(byte[] webp, String fourcc) {
    int pos = 12;
    while (pos + 8 <= webp.length) {
      String type = new String(webp, pos, 4, StandardCharsets.ISO_8859_1);
      int size = ByteBuffer.wrap(webp, pos + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
      if (type.equals(fourcc)) {
        return java.util.Arrays.copyOfRange(webp, pos + 8, pos + 8 + size);
      }
      pos += 8 + size + (size & 1);
    }
    throw new IllegalArgumentException("no " + fourcc + " chunk");
  }

  /** The lossy 16×16 image of {@link #WEBP_LOSSY_ALPHA} as a simple file: one VP8 chunk. */
  static byte[] webpLossySimple() {
    return riff(webpChunk("VP8 ", webpChunkData(WEBP_LOSSY_ALPHA, "VP8 ")));
  }

  /** A VP8X header chunk for a canvas of {@code width × height}. */
  static byte[] vp8x(int flags, int width, int height) {
    byte[] d = new byte[10];
    d[0] = (byte) flags;
    put24(d, 4, width - 1);
    put24(d, 7, height - 1);
    return webpChunk("VP8X", d);
  }

  /** A lossless WebP of two colours (discs on a background): simple prefix codes, no transforms. */
  static byte[] webpLossless(int width, int height, int seed) {
    return riff(webpChunk("VP8L", vp8l(width, height, seed)));
  }

  /** The same image in the extended format: VP8X then VP8L. */
  static byte[] webpLosslessExtended(int width, int height, int seed) {
    return riff(vp8x(0, width, height), webpChunk("VP8L", vp8l(width, height, seed)));
  }

  /**
   * A VP8L bitstream for a two-colour image. Each channel where the colours differ gets a simple
   * prefix code of two 8-bit symbols (1 bit a pixel), the others a code of one symbol (0 bits).
   */
  static byte[] vp8l(int width, int height, int seed) {
    int[] c0 = {255, 30 + seed % 50, 120, 200}; // A, R, G, B of the background
    int[] c1 = {255, 220, 180 - seed % 40, 40};
    Bits bits = new Bits();
    bits.put(0x2F, 8).put(width - 1, 14).put(height - 1, 14).put(0, 1).put(0, 3);
    bits.put(0, 1); // no transform
    bits.put(0, 1); // no colour cache
    bits.put(0, 1); // no meta prefix codes
    int[] order = {2, 1, 3, 0}; // green, red, blue, alpha
    for (int ch : order) {
      int lo = Math.min(c0[ch], c1[ch]);
      int hi = Math.max(c0[ch], c1[ch]);
      bits.put(1, 1); // simple code
      if (lo == hi) {
        bits.put(0, 1).put(1, 1).put(lo, 8); // one symbol, 8 bits
      } else {
        bits.put(1, 1).put(1, 1).put(lo, 8).put(hi, 8); // two symbols: lo gets code 0, hi code 1
      }
    }
    bits.put(1, 1).put(0, 1).put(0, 1).put(0, 1); // distance code: one symbol, 0
    int cx = width / 2;
    int cy = height / 2;
    int r2 = Math.max(1, Math.min(width, height) / 3);
    r2 *= r2;
    for (int y = 0; y < height; y++) {
      for (int x = 0; x < width; x++) {
        int[] c = (x - cx) * (x - cx) + (y - cy) * (y - cy) <= r2 ? c1 : c0;
        for (int ch : order) {
          if (c0[ch] != c1[ch]) {
            bits.put(c[ch] == Math.max(c0[ch], c1[ch]) ? 1 : 0, 1);
          }
        }
      }
    }
    return bits.bytes();
  }

  /** Bits written least significant first, as VP8L reads them. */
  private static final class Bits {
    private final ByteArrayOutputStream out = new ByteArrayOutputStream();
    private long acc;
    private int n;

    Bits put(int value, int count) {
      acc |= ((long) value & ((1L << count) - 1)) << n;
      n += count;
      while (n >= 8) {
        out.write((int) (acc & 0xff));
        acc >>>= 8;
        n -= 8;
      }
      return this;
    }

    byte[] bytes() {
      if (n > 0) {
        out.write((int) (acc & 0xff));
      }
      return out.toByteArray();
    }
  }

  private static void put24(byte[] d, int pos, int v) {
    d[pos] = (byte) v;
    d[pos + 1] = (byte) (v >> 8);
    d[pos + 2] = (byte) (v >> 16);
  }

  // ---- coins-dev ----------------------------------------------------------------------------------

  /**
   * The coins-dev photos: {@code ../shared/datasets/coins-dev} beside the repository, or the copy in
   * {@code eval/datasets/coins-dev}. Tests run in the module's folder.
   */
  static List<Path> coinsDev() {
    for (String dir : new String[] {"../../shared/datasets/coins-dev", "../eval/datasets/coins-dev"}) {
      Path p = Path.of(dir);
      if (Files.isDirectory(p)) {
        try (Stream<Path> files = Files.list(p)) {
          List<Path> jpgs = files.filter(f -> f.getFileName().toString().endsWith(".jpg")).sorted().toList();
          if (!jpgs.isEmpty()) {
            return jpgs;
          }
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
    throw new IllegalStateException("coins-dev not found (looked in ../../shared/datasets/coins-dev and "
        + "../eval/datasets/coins-dev from " + Path.of("").toAbsolutePath() + ")");
  }

  static byte[] read(Path p) {
    try {
      return Files.readAllBytes(p);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** A copy with a little-endian 32-bit field set. */
  static byte[] le32(byte[] b, int pos, long value) {
    byte[] out = b.clone();
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putInt(pos, (int) value);
    return out;
  }

  /** A copy with a little-endian 16-bit field set. */
  static byte[] le16(byte[] b, int pos, int value) {
    byte[] out = b.clone();
    ByteBuffer.wrap(out).order(ByteOrder.LITTLE_ENDIAN).putShort(pos, (short) value);
    return out;
  }

  /** A copy with a big-endian 16-bit field set. */
  static byte[] be16(byte[] b, int pos, int value) {
    byte[] out = b.clone();
    ByteBuffer.wrap(out).putShort(pos, (short) value);
    return out;
  }

  /** A copy with one byte set. */
  static byte[] set(byte[] b, int pos, int value) {
    byte[] out = b.clone();
    out[pos] = (byte) value;
    return out;
  }

  /** The offset of the first JPEG segment with this marker (0xC0 for SOF0...), walking segment lengths. */
  static int jpegSegment(byte[] jpeg, int marker) {
    int pos = 2;
    while (pos + 4 <= jpeg.length) {
      int m = jpeg[pos + 1] & 0xff;
      if (m == marker) {
        return pos;
      }
      if (m == 0xDA) {
        break;
      }
      pos += 2 + (((jpeg[pos + 2] & 0xff) << 8) | (jpeg[pos + 3] & 0xff));
    }
    throw new IllegalArgumentException("no marker " + Integer.toHexString(marker));
  }

  /** The offset of the first PNG chunk of this type. */
  static int pngChunkAt(byte[] png, String type) {
    int pos = 8;
    while (pos + 8 <= png.length) {
      if (new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1).equals(type)) {
        return pos;
      }
      pos += 12 + ByteBuffer.wrap(png, pos, 4).getInt();
    }
    throw new IllegalArgumentException("no " + type + " chunk");
  }

  static byte[] concat(byte[]... parts) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    for (byte[] p : parts) {
      out.writeBytes(p);
    }
    return out.toByteArray();
  }
}
