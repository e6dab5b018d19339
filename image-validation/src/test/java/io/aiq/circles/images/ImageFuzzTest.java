package io.aiq.circles.images;

import static io.aiq.circles.images.TestFiles.*;
import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.ErrorCode;
import java.awt.image.BufferedImage;
import java.lang.management.ManagementFactory;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.zip.CRC32;
import org.junit.jupiter.api.Test;

/**
 * Mutation fuzzing of the one path from bytes to pixels: coins-dev photos and small synthetic files
 * of every accepted format, with bits flipped, tails cut, header fields set to 0, -1, the largest and
 * the smallest values, chunk and segment lengths that lie, bytes inserted and removed. Each case goes
 * through the validator, and what it accepts through {@link ImageDecoder#decode}. Every case must end
 * one of three ways:
 *
 * <ul>
 *   <li>refused with a documented code: 415 {@code unsupported_media_type}, 413
 *       {@code image_too_large}, 422 {@code corrupt_image};
 *   <li>decoded to the size the validator read, allocating at most
 *       {@value #BYTES_PER_PIXEL} bytes per declared pixel plus {@value #FIXED_BYTES} bytes (measured
 *       with the thread's allocation counter around the decode);
 *   <li>refused by the decoder with {@link ImageDecoder.CorruptImageException}.
 * </ul>
 *
 * Nothing else may come out: no other exception, no Error. Seeded and deterministic;
 * {@code -Dfuzz.cases=N} and {@code -Dfuzz.seed=S} run other campaigns; {@code -Dfuzz.dump=I,J} prints
 * those cases' bytes (base64) to make regression tests of them.
 */
class ImageFuzzTest {
  static final long BYTES_PER_PIXEL = 64;
  static final long FIXED_BYTES = 16L << 20;
  /** Small enough that no case decodes for long, large enough for every seed file. */
  static final long MAX_PIXELS = 2_000_000;
  static final Set<ErrorCode> DOCUMENTED = Set.of(ErrorCode.UNSUPPORTED_MEDIA_TYPE, ErrorCode.IMAGE_TOO_LARGE,
      ErrorCode.CORRUPT_IMAGE);

  private record Seed(String name, ImageFormat format, byte[] bytes) {
  }

  @Test
  void mutated_images_are_refused_with_a_documented_code_or_decode_within_the_memory_bound() {
    int cases = Integer.getInteger("fuzz.cases", 5000);
    long seed = Long.getLong("fuzz.seed", 20261201L);
    List<Seed> seeds = seeds();
    UploadValidator validator = new UploadValidator(20L << 20, MAX_PIXELS);
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();
    long thread = Thread.currentThread().getId();
    Random random = new Random(seed);

    Map<ErrorCode, Integer> refused = new EnumMap<>(ErrorCode.class);
    Map<String, Integer> mutations = new TreeMap<>();
    int decoded = 0;
    int decoderRefused = 0;
    long maxAllocated = 0;
    double maxShareOfBound = 0;
    String maxCase = "";
    List<String> failures = new ArrayList<>();
    long start = System.nanoTime();
    for (int i = 0; i < cases; i++) {
      Seed s = seeds.get(random.nextInt(seeds.size()));
      Mutation m = mutate(s, random);
      mutations.merge(m.kind, 1, Integer::sum);
      String label = "case " + i + " (" + s.name + ", " + m.kind + ")";
      if (("," + System.getProperty("fuzz.dump", "") + ",").contains("," + i + ",")) {
        System.out.println("DUMP " + label + " " + java.util.Base64.getEncoder().encodeToString(m.bytes));
      }
      UploadValidator.Header header;
      try {
        header = validator.inspect(m.bytes, true);
      } catch (UploadRejected r) {
        if (!DOCUMENTED.contains(r.code())) {
          failures.add(label + ": refused with " + r.code() + ": " + r.getMessage());
        }
        refused.merge(r.code(), 1, Integer::sum);
        continue;
      } catch (Throwable t) {
        failures.add(label + ": the validator threw " + t);
        continue;
      }
      long before = threads.getThreadAllocatedBytes(thread);
      try {
        BufferedImage img = ImageDecoder.decode(m.bytes);
        decoded++;
        if (img.getWidth() != header.width() || img.getHeight() != header.height()) {
          failures.add(label + ": validated as " + header.width() + "x" + header.height() + ", decoded as "
              + img.getWidth() + "x" + img.getHeight());
        }
      } catch (ImageDecoder.CorruptImageException e) {
        decoderRefused++;
      } catch (Throwable t) {
        failures.add(label + ": the decoder threw " + t);
      }
      long allocated = threads.getThreadAllocatedBytes(thread) - before;
      long bound = BYTES_PER_PIXEL * header.pixels() + FIXED_BYTES;
      if (allocated > bound) {
        failures.add(label + ": decoding " + header.width() + "x" + header.height() + " allocated " + allocated
            + " bytes, over the bound of " + bound);
      }
      if (allocated > maxAllocated) {
        maxAllocated = allocated;
        maxCase = label + ", " + header.width() + "x" + header.height();
      }
      maxShareOfBound = Math.max(maxShareOfBound, (double) allocated / bound);
    }
    long millis = (System.nanoTime() - start) / 1_000_000;
    System.out.printf("image fuzz: %d cases (seed %d) from %d seed files in %d ms: refused by the validator %s; "
            + "decoded %d; refused by the decoder %d; largest decode allocation %.1f MiB (%s); "
            + "highest share of the bound (%d x pixels + %d MiB) %.1f%%; mutations %s%n",
        cases, seed, seeds.size(), millis, refused, decoded, decoderRefused, maxAllocated / 1048576.0, maxCase,
        BYTES_PER_PIXEL, FIXED_BYTES >> 20, 100 * maxShareOfBound, mutations);
    assertThat(failures).as("cases that ended other than refused with a documented code, decoded within the "
        + "bound, or refused as corrupt by the decoder").isEmpty();
    // the campaign reaches every outcome, so none of them is vacuous
    assertThat(refused.keySet()).containsExactlyInAnyOrderElementsOf(DOCUMENTED);
    assertThat(decoded).isPositive();
    assertThat(decoderRefused).isPositive();
  }

  // ---- seeds --------------------------------------------------------------------------------------

  private static List<Seed> seeds() {
    List<Seed> seeds = new ArrayList<>();
    // the smaller coins-dev photos (most are about 512x340): real encoders' JPEGs, EXIF and all
    for (Path p : coinsDev()) {
      byte[] b = TestFiles.read(p);
      if (b.length <= 60_000) {
        seeds.add(new Seed(p.getFileName().toString().substring(0, 12), ImageFormat.JPEG, b));
      }
    }
    int photos = seeds.size();
    assertThat(photos).as("coins-dev photos of up to 60 kB").isGreaterThan(20);
    int t = 0;
    for (int[] size : new int[][] {{37, 23}, {64, 64}, {5, 3}}) {
      int w = size[0];
      int h = size[1];
      t++;
      seeds.add(new Seed("jpeg-baseline", ImageFormat.JPEG, jpeg(discs(w, h, BufferedImage.TYPE_INT_RGB, t), false)));
      seeds.add(new Seed("jpeg-progressive", ImageFormat.JPEG, jpeg(discs(w, h, BufferedImage.TYPE_INT_RGB, t), true)));
      seeds.add(new Seed("jpeg-grey", ImageFormat.JPEG, jpeg(discs(w, h, BufferedImage.TYPE_BYTE_GRAY, t), false)));
      seeds.add(new Seed("png-rgb", ImageFormat.PNG, png(discs(w, h, BufferedImage.TYPE_INT_RGB, t), false)));
      seeds.add(new Seed("png-rgba-interlaced", ImageFormat.PNG, png(discs(w, h, BufferedImage.TYPE_INT_ARGB, t), true)));
      seeds.add(new Seed("png-grey16", ImageFormat.PNG, png(discs(w, h, BufferedImage.TYPE_USHORT_GRAY, t), false)));
      seeds.add(new Seed("png-palette", ImageFormat.PNG, png(discs(w, h, BufferedImage.TYPE_BYTE_INDEXED, t), false)));
      seeds.add(new Seed("png-1bit", ImageFormat.PNG, png(discs(w, h, BufferedImage.TYPE_BYTE_BINARY, t), false)));
      seeds.add(new Seed("png-ztxt", ImageFormat.PNG, pngWithChunk(png(discs(w, h, BufferedImage.TYPE_INT_RGB, t), false),
          pngChunk("zTXt", concat("Comment\0\0".getBytes(StandardCharsets.ISO_8859_1), deflate(new byte[3000]))))));
      seeds.add(new Seed("bmp-24", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_INT_RGB, t), null)));
      seeds.add(new Seed("bmp-8", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_BYTE_INDEXED, t), null)));
      seeds.add(new Seed("bmp-1", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_BYTE_BINARY, t), null)));
      seeds.add(new Seed("bmp-rle8", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_BYTE_INDEXED, t), "BI_RLE8")));
      seeds.add(new Seed("bmp-16bf", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_USHORT_565_RGB, t), "BI_BITFIELDS")));
      seeds.add(new Seed("bmp-32bf", ImageFormat.BMP, bmp(discs(w, h, BufferedImage.TYPE_INT_RGB, t), "BI_BITFIELDS")));
      seeds.add(new Seed("webp-lossless", ImageFormat.WEBP, webpLossless(w, h, t)));
      seeds.add(new Seed("webp-lossless-vp8x", ImageFormat.WEBP, webpLosslessExtended(w, h, t)));
    }
    seeds.add(new Seed("webp-lossy-alpha", ImageFormat.WEBP, WEBP_LOSSY_ALPHA));
    seeds.add(new Seed("webp-lossy", ImageFormat.WEBP, webpLossySimple()));
    seeds.add(new Seed("webp-1x1", ImageFormat.WEBP, WEBP_1X1));
    // half the cases start from a photo, half from the synthetic files
    List<Seed> synthetic = new ArrayList<>(seeds.subList(photos, seeds.size()));
    while (seeds.size() - photos < photos) {
      seeds.addAll(synthetic);
    }
    return seeds;
  }

  // ---- mutations ----------------------------------------------------------------------------------

  private record Mutation(String kind, byte[] bytes) {
  }

  private static Mutation mutate(Seed s, Random r) {
    byte[] b = s.bytes.clone();
    List<int[]> fields = fields(s.format, b); // {offset, width in bytes, little-endian 1/0}
    int choice = r.nextInt(100);
    Mutation m;
    if (choice < 22) {
      int n = 1 + r.nextInt(8);
      for (int k = 0; k < n; k++) {
        int pos = r.nextInt(b.length);
        b[pos] ^= (byte) (1 << r.nextInt(8));
      }
      m = new Mutation("bit flips", b);
    } else if (choice < 34) {
      int span = Math.min(b.length, 96);
      int n = 1 + r.nextInt(4);
      for (int k = 0; k < n; k++) {
        int pos = r.nextInt(span);
        b[pos] ^= (byte) (1 << r.nextInt(8));
      }
      m = new Mutation("header bit flips", b);
    } else if (choice < 46) {
      int len = 1 + r.nextInt(b.length - 1);
      if (r.nextBoolean()) {
        len = Math.max(1, b.length - 1 - r.nextInt(Math.min(b.length - 1, 64))); // near the end
      }
      m = new Mutation("truncation", java.util.Arrays.copyOf(b, len));
    } else if (choice < 78) {
      int[] f = fields.get(r.nextInt(fields.size()));
      long value = switch (r.nextInt(8)) {
        case 0 -> 0;
        case 1 -> -1; // all bits set: the unsigned maximum
        case 2 -> (1L << (8 * f[1] - 1)) - 1; // the signed maximum
        case 3 -> 1L << (8 * f[1] - 1); // the signed minimum (negative)
        case 4 -> read(b, f) + 1;
        case 5 -> read(b, f) - 1;
        case 6 -> read(b, f) * 2 + r.nextInt(3);
        default -> r.nextLong();
      };
      write(b, f, value);
      m = new Mutation("field " + (value == 0 ? "zero" : value == -1 ? "max" : "value"), b);
    } else if (choice < 86) {
      // a lying length: a chunk or segment length (or the RIFF/BMP file size) beyond the file or just off
      List<int[]> lengths = lengths(s.format, b);
      int[] f = lengths.get(r.nextInt(lengths.size()));
      long value = switch (r.nextInt(4)) {
        case 0 -> read(b, f) + 1 + r.nextInt(16);
        case 1 -> read(b, f) - 1 - r.nextInt(16);
        case 2 -> b.length + r.nextInt(1 << 20);
        default -> 0x7FFF_FFF0L + r.nextInt(32);
      };
      write(b, f, value);
      m = new Mutation("lying length", b);
    } else if (choice < 93) {
      int pos = r.nextInt(b.length);
      int n = 1 + r.nextInt(32);
      byte[] run = new byte[n];
      r.nextBytes(run);
      if (r.nextBoolean()) {
        m = new Mutation("insertion", concat(java.util.Arrays.copyOf(b, pos), run, java.util.Arrays.copyOfRange(b, pos, b.length)));
      } else {
        int end = Math.min(b.length, pos + n);
        m = new Mutation("deletion", concat(java.util.Arrays.copyOf(b, pos), java.util.Arrays.copyOfRange(b, end, b.length)));
      }
    } else {
      // splice: a block of the file copied over another place of it
      int n = 1 + r.nextInt(Math.min(b.length, 256));
      int from = r.nextInt(b.length - n + 1);
      int to = r.nextInt(b.length - n + 1);
      System.arraycopy(s.bytes, from, b, to, n);
      m = new Mutation("splice", b);
    }
    if (s.format == ImageFormat.PNG && m.bytes.length > 8 && r.nextInt(3) > 0) {
      // CRCs made right again, so the mutation reaches the checks (and the decoder) behind them
      fixAllCrcs(m.bytes);
      m = new Mutation(m.kind + " (CRCs fixed)", m.bytes);
    }
    return m;
  }

  private static long read(byte[] b, int[] f) {
    if (f[0] + f[1] > b.length) {
      return 0;
    }
    ByteBuffer buf = ByteBuffer.wrap(b).order(f[2] == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    return switch (f[1]) {
      case 1 -> b[f[0]] & 0xff;
      case 2 -> buf.getShort(f[0]) & 0xffff;
      default -> buf.getInt(f[0]) & 0xffffffffL;
    };
  }

  private static void write(byte[] b, int[] f, long value) {
    if (f[0] + f[1] > b.length) {
      return;
    }
    ByteBuffer buf = ByteBuffer.wrap(b).order(f[2] == 1 ? ByteOrder.LITTLE_ENDIAN : ByteOrder.BIG_ENDIAN);
    switch (f[1]) {
      case 1 -> b[f[0]] = (byte) value;
      case 2 -> buf.putShort(f[0], (short) value);
      default -> buf.putInt(f[0], (int) value);
    }
  }

  /** Header fields worth setting to extreme values: {offset, bytes, little-endian}. */
  private static List<int[]> fields(ImageFormat format, byte[] b) {
    List<int[]> f = new ArrayList<>();
    switch (format) {
      case BMP -> {
        for (int[] x : new int[][] {{2, 4}, {10, 4}, {14, 4}, {18, 4}, {22, 4}, {26, 2}, {28, 2}, {30, 4}, {34, 4},
            {46, 4}, {50, 4}, {54, 4}, {58, 4}, {62, 4}}) {
          f.add(new int[] {x[0], x[1], 1});
        }
      }
      case PNG -> {
        for (int[] x : new int[][] {{16, 4}, {20, 4}, {24, 1}, {25, 1}, {26, 1}, {27, 1}, {28, 1}}) {
          f.add(new int[] {x[0], x[1], 0});
        }
        f.addAll(lengths(format, b));
      }
      case JPEG -> {
        f.addAll(lengths(format, b));
        int pos = 2;
        while (pos + 4 <= b.length && (b[pos] & 0xff) == 0xFF) {
          int m = b[pos + 1] & 0xff;
          int len = ((b[pos + 2] & 0xff) << 8) | (b[pos + 3] & 0xff);
          if (m == 0xC0 || m == 0xC1 || m == 0xC2) {
            f.add(new int[] {pos + 1, 1, 0}); // the marker: another coding
            f.add(new int[] {pos + 4, 1, 0}); // precision
            f.add(new int[] {pos + 5, 2, 0}); // height
            f.add(new int[] {pos + 7, 2, 0}); // width
            f.add(new int[] {pos + 9, 1, 0}); // components
            for (int c = 0; c < 9 && pos + 10 + c < b.length; c++) {
              f.add(new int[] {pos + 10 + c, 1, 0}); // component ids, sampling, tables
            }
          } else if (m == 0xDA) {
            f.add(new int[] {pos + 4, 1, 0}); // scan components
            for (int c = 0; c < 6; c++) {
              f.add(new int[] {pos + 5 + c, 1, 0});
            }
            break;
          } else if (m == 0xC4 || m == 0xDB || m == 0xDD) {
            f.add(new int[] {pos + 4, 1, 0}); // table class / precision, restart interval
            f.add(new int[] {pos + 5, 1, 0});
          }
          pos += 2 + len;
        }
      }
      case WEBP -> {
        f.addAll(lengths(format, b));
        int pos = 12;
        while (pos + 8 <= b.length) {
          String type = new String(b, pos, 4, StandardCharsets.ISO_8859_1);
          int size = ByteBuffer.wrap(b, pos + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
          int data = pos + 8;
          switch (type) {
            case "VP8X" -> {
              f.add(new int[] {data, 1, 1}); // flags
              f.add(new int[] {data + 4, 2, 1}); // canvas width (low bytes)
              f.add(new int[] {data + 6, 1, 1});
              f.add(new int[] {data + 7, 2, 1}); // canvas height
              f.add(new int[] {data + 9, 1, 1});
            }
            case "VP8 " -> {
              f.add(new int[] {data, 1, 1}); // frame tag
              f.add(new int[] {data + 1, 2, 1}); // first partition size
              f.add(new int[] {data + 3, 1, 1}); // start code
              f.add(new int[] {data + 6, 2, 1}); // width and scale
              f.add(new int[] {data + 8, 2, 1}); // height and scale
              f.add(new int[] {data + 10, 4, 1}); // the first partition's header
            }
            case "VP8L" -> {
              f.add(new int[] {data, 1, 1}); // signature
              f.add(new int[] {data + 1, 4, 1}); // width, height, alpha, version
              f.add(new int[] {data + 5, 2, 1}); // transform and prefix code bits
              f.add(new int[] {data + 7, 2, 1});
            }
            case "ALPH" -> f.add(new int[] {data, 1, 1});
            default -> {
            }
          }
          if (size < 0) {
            break;
          }
          pos = data + size + (size & 1);
        }
      }
      default -> throw new IllegalStateException();
    }
    return f;
  }

  /** The length fields of the container: {offset, bytes, little-endian}. */
  private static List<int[]> lengths(ImageFormat format, byte[] b) {
    List<int[]> f = new ArrayList<>();
    switch (format) {
      case BMP -> {
        f.add(new int[] {2, 4, 1}); // bfSize
        f.add(new int[] {10, 4, 1}); // bfOffBits
        f.add(new int[] {34, 4, 1}); // biSizeImage
        f.add(new int[] {46, 4, 1}); // biClrUsed
      }
      case PNG -> {
        int pos = 8;
        while (pos + 12 <= b.length) {
          f.add(new int[] {pos, 4, 0});
          long len = ByteBuffer.wrap(b, pos, 4).getInt() & 0xffffffffL;
          if (len > b.length) {
            break;
          }
          pos += 12 + (int) len;
        }
      }
      case JPEG -> {
        int pos = 2;
        while (pos + 4 <= b.length && (b[pos] & 0xff) == 0xFF) {
          f.add(new int[] {pos + 2, 2, 0});
          if ((b[pos + 1] & 0xff) == 0xDA) {
            break;
          }
          pos += 2 + (((b[pos + 2] & 0xff) << 8) | (b[pos + 3] & 0xff));
        }
      }
      case WEBP -> {
        f.add(new int[] {4, 4, 1}); // the RIFF size
        int pos = 12;
        while (pos + 8 <= b.length) {
          f.add(new int[] {pos + 4, 4, 1});
          int size = ByteBuffer.wrap(b, pos + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
          if (size < 0) {
            break;
          }
          pos += 8 + size + (size & 1);
        }
      }
      default -> throw new IllegalStateException();
    }
    return f;
  }

  /** Recomputes every PNG chunk's CRC, as far as the lengths lead. */
  private static void fixAllCrcs(byte[] b) {
    int pos = 8;
    CRC32 crc = new CRC32();
    while (pos + 12 <= b.length) {
      long len = ByteBuffer.wrap(b, pos, 4).getInt() & 0xffffffffL;
      if (len > b.length - pos - 12L) {
        return;
      }
      crc.reset();
      crc.update(b, pos + 4, 4 + (int) len);
      ByteBuffer.wrap(b).putInt(pos + 8 + (int) len, (int) crc.getValue());
      pos += 12 + (int) len;
    }
  }
}
