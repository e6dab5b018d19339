package io.aiq.circles.testing;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Random;
import java.util.zip.CRC32;
import javax.imageio.ImageIO;

/** Images good and bad, made on the spot, for the upload-validation tests. */
public final class TestImages {
  private TestImages() {
  }

  /** A real coin photo from coins-dev, 512×236. */
  public static byte[] coinPhoto() {
    return TestEnv.image("coins-512x236.jpg");
  }

  /** A second, different real coin photo, 640×480. */
  public static byte[] otherCoinPhoto() {
    return TestEnv.image("coins-2.jpg");
  }

  /** A synthetic image with a few discs, in any ImageIO format ("png", "bmp", "jpg"). */
  public static byte[] discs(int width, int height, String format, int seed) {
    BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = img.createGraphics();
    g.setColor(new Color(40 + seed % 200, 90, 140));
    g.fillRect(0, 0, width, height);
    g.setColor(new Color(200, 170, 60));
    for (int i = 0; i < 3; i++) {
      int r = Math.min(width, height) / 8;
      g.fillOval(width * (i + 1) / 4 - r, height / 2 - r, 2 * r, 2 * r);
    }
    g.dispose();
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      if (!ImageIO.write(img, format, out)) {
        throw new IllegalArgumentException("no writer for " + format);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toByteArray();
  }

  /** The first {@code fraction} of a file: what an interrupted upload leaves. */
  public static byte[] truncated(byte[] bytes, double fraction) {
    return Arrays.copyOf(bytes, (int) (bytes.length * fraction));
  }

  /** A small, valid PNG whose header claims {@code width × height} pixels: a decompression bomb's calling card. */
  public static byte[] pngDeclaring(int width, int height) {
    byte[] png = discs(16, 16, "png", 1);
    ByteBuffer b = ByteBuffer.wrap(png);
    b.putInt(16, width);
    b.putInt(20, height);
    CRC32 crc = new CRC32();
    crc.update(png, 12, 17);
    b.putInt(29, (int) crc.getValue());
    return png;
  }

  /** A PNG whose every chunk is intact (valid CRCs) but whose compressed pixels are garbage. */
  public static byte[] pngWithGarbagePixels() {
    byte[] png = discs(64, 64, "png", 2);
    int pos = 8;
    while (pos < png.length) {
      int len = ByteBuffer.wrap(png, pos, 4).getInt();
      String type = new String(png, pos + 4, 4, StandardCharsets.ISO_8859_1);
      if (type.equals("IDAT")) {
        for (int i = pos + 8; i < pos + 8 + len; i++) {
          png[i] = (byte) (i * 31 + 7);
        }
        CRC32 crc = new CRC32();
        crc.update(png, pos + 4, 4 + len);
        ByteBuffer.wrap(png).putInt(pos + 8 + len, (int) crc.getValue());
      }
      pos += 12 + len;
    }
    return png;
  }

  /** A PNG with one flipped bit in a chunk, so its CRC no longer matches. */
  public static byte[] pngWithBadCrc() {
    byte[] png = discs(32, 32, "png", 3);
    png[40] ^= 0x01;
    return png;
  }

  public static byte[] text() {
    return "#!/bin/sh\necho this is not an image\n".getBytes(StandardCharsets.UTF_8);
  }

  /**
   * The fuzz corpus's mutation of a file, seeded: one of flip a few bits, overwrite a run with
   * 0x00/0xFF/random (in the header most of the time), truncate, splice in a random tail, copy a run
   * of the file over another place.
   */
  public static byte[] mutate(byte[] seed, Random r) {
    byte[] b = seed.clone();
    switch (r.nextInt(5)) {
      case 0 -> {
        for (int k = 1 + r.nextInt(8); k > 0; k--) {
          int at = r.nextInt(b.length);
          b[at] ^= (byte) (1 << r.nextInt(8));
        }
      }
      case 1 -> {
        // headers are where decoders allocate from: aim there most of the time
        int at = r.nextBoolean() ? r.nextInt(Math.min(64, b.length)) : r.nextInt(b.length);
        int len = 1 + r.nextInt(4);
        byte v = switch (r.nextInt(3)) {
          case 0 -> 0;
          case 1 -> (byte) 0xFF;
          default -> (byte) r.nextInt(256);
        };
        for (int k = at; k < Math.min(b.length, at + len); k++) {
          b[k] = v;
        }
      }
      case 2 -> {
        return Arrays.copyOf(b, 1 + r.nextInt(b.length));
      }
      case 3 -> {
        int cut = r.nextInt(b.length);
        byte[] tail = new byte[r.nextInt(2048)];
        r.nextBytes(tail);
        byte[] out = Arrays.copyOf(b, cut + tail.length);
        System.arraycopy(tail, 0, out, cut, tail.length);
        return out;
      }
      default -> {
        // a run of the file copied over another place: lengths and markers that lie
        int from = r.nextInt(b.length);
        int to = r.nextInt(b.length);
        int len = Math.min(1 + r.nextInt(32), Math.min(b.length - from, b.length - to));
        System.arraycopy(seed, from, b, to, len);
      }
    }
    return b;
  }
}
