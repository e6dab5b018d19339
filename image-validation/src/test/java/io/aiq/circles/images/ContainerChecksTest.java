package io.aiq.circles.images;

import static io.aiq.circles.images.TestFiles.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.ErrorCode;
import java.awt.image.BufferedImage;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Container features no photo needs and headers that lie, format by format: each is refused with its
 * documented code before a decoder sees it, and the decoder refuses it too (a stored blob that never
 * went through the validator cannot make it allocate what its header declares).
 */
class ContainerChecksTest {
  private final UploadValidator validator = new UploadValidator(40_000_000);

  private void refused(byte[] bytes, ErrorCode code, String messagePart) {
    assertThatThrownBy(() -> validator.validate(bytes)).isInstanceOf(UploadRejected.class)
        .satisfies(e -> assertThat(((UploadRejected) e).code()).as(e.getMessage()).isEqualTo(code))
        .hasMessageContaining(messagePart);
    if (code != ErrorCode.IMAGE_TOO_LARGE) {
      assertThatThrownBy(() -> ImageDecoder.decode(bytes)).isInstanceOf(ImageDecoder.CorruptImageException.class);
    }
  }

  private void accepted(byte[] bytes, int width, int height) {
    ValidatedImage v = validator.validate(bytes);
    assertThat(v.width()).isEqualTo(width);
    assertThat(v.height()).isEqualTo(height);
    BufferedImage img = ImageDecoder.decode(bytes);
    assertThat(img.getWidth()).isEqualTo(width);
    assertThat(img.getHeight()).isEqualTo(height);
  }

  @Test
  void every_flavour_a_photo_may_come_in_is_accepted_and_decodes_to_its_size() {
    Map<String, byte[]> files = new LinkedHashMap<>();
    files.put("jpeg baseline", jpeg(discs(61, 40, BufferedImage.TYPE_INT_RGB, 1), false));
    files.put("jpeg progressive", jpeg(discs(61, 40, BufferedImage.TYPE_INT_RGB, 2), true));
    files.put("jpeg grey", jpeg(discs(61, 40, BufferedImage.TYPE_BYTE_GRAY, 3), false));
    files.put("png rgb", png(discs(61, 40, BufferedImage.TYPE_INT_RGB, 1), false));
    files.put("png rgba interlaced", png(discs(61, 40, BufferedImage.TYPE_INT_ARGB, 1), true));
    files.put("png grey 8", png(discs(61, 40, BufferedImage.TYPE_BYTE_GRAY, 1), false));
    files.put("png grey 16", png(discs(61, 40, BufferedImage.TYPE_USHORT_GRAY, 1), false));
    files.put("png palette", png(discs(61, 40, BufferedImage.TYPE_BYTE_INDEXED, 1), false));
    files.put("png 1 bit", png(discs(61, 40, BufferedImage.TYPE_BYTE_BINARY, 1), false));
    files.put("png with text", pngWithChunk(png(discs(61, 40, BufferedImage.TYPE_INT_RGB, 1), false),
        pngChunk("zTXt", concat("Comment\0\0".getBytes(StandardCharsets.ISO_8859_1), deflate(new byte[5000])))));
    files.put("bmp 24", bmp(discs(61, 40, BufferedImage.TYPE_INT_RGB, 1), null));
    files.put("bmp 8 palette", bmp(discs(61, 40, BufferedImage.TYPE_BYTE_INDEXED, 1), null));
    files.put("bmp 1 bit", bmp(discs(61, 40, BufferedImage.TYPE_BYTE_BINARY, 1), null));
    files.put("bmp rle8", bmp(discs(61, 40, BufferedImage.TYPE_BYTE_INDEXED, 1), "BI_RLE8"));
    files.put("bmp 16 bitfields", bmp(discs(61, 40, BufferedImage.TYPE_USHORT_565_RGB, 1), "BI_BITFIELDS"));
    files.put("bmp 32 bitfields", bmp(discs(61, 40, BufferedImage.TYPE_INT_RGB, 1), "BI_BITFIELDS"));
    files.put("webp lossless", webpLossless(61, 40, 1));
    files.put("webp lossless extended", webpLosslessExtended(61, 40, 1));
    for (Map.Entry<String, byte[]> f : files.entrySet()) {
      try {
        accepted(f.getValue(), 61, 40);
      } catch (RuntimeException | AssertionError e) {
        throw new AssertionError(f.getKey() + ": " + e.getMessage(), e);
      }
    }
    accepted(WEBP_LOSSY_ALPHA, 16, 16);
    accepted(webpLossySimple(), 16, 16);
    accepted(WEBP_1X1, 1, 1);
  }

  @Test
  void every_coins_dev_photo_is_accepted() {
    for (var photo : coinsDev()) {
      ValidatedImage v = validator.validate(read(photo));
      assertThat(v.format()).as(photo.toString()).isEqualTo(ImageFormat.JPEG);
    }
  }

  // ---- BMP ----------------------------------------------------------------------------------------

  /**
   * Issue 12's file: 187 bytes, BITMAPINFOHEADER with biCompression = 5 (BI_PNG), a 2 GiB
   * biSizeImage and a tiny PNG inside. It was accepted with 202, and decoding it threw
   * OutOfMemoryError ("Requested array size exceeds VM limit") as ImageIO allocated biSizeImage bytes.
   */
  @Test
  void the_187_byte_bmp_with_an_embedded_png_and_a_2_gib_image_size_is_refused_with_415_and_never_decoded() {
    byte[] tinyPng = png(discs(1, 1, BufferedImage.TYPE_INT_RGB, 1), false);
    byte[] bomb = bmpEmbedding(tinyPng, 5, 0x7FFF_FFFFL, 187);
    assertThat(bomb).hasSize(187);

    refused(bomb, ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded PNG");
    refused(bmpEmbedding(tinyPng, 5, 0x8000_0000L, 187), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded PNG");
    refused(bmpEmbedding(jpeg(discs(8, 8, BufferedImage.TYPE_INT_RGB, 1), false), 4, 0x7FFF_FFFFL, 0),
        ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded JPEG");
    // and what ImageIO itself writes with those compressions
    refused(bmp(discs(8, 8, BufferedImage.TYPE_INT_RGB, 1), "BI_PNG"), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded PNG");
    refused(bmp(discs(8, 8, BufferedImage.TYPE_INT_RGB, 1), "BI_JPEG"), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded JPEG");
  }

  @Test
  void bmp_headers_that_lie_about_sizes_are_refused_with_422() {
    byte[] bmp = bmp(discs(40, 30, BufferedImage.TYPE_INT_RGB, 1), null); // 24-bit, 40-byte header, offset 54
    int length = bmp.length;
    refused(le32(bmp, 10, length + 1), ErrorCode.CORRUPT_IMAGE, "beyond the end of the file");
    refused(le32(bmp, 10, 0xFFFF_FFF0L), ErrorCode.CORRUPT_IMAGE, "beyond the end of the file");
    refused(le32(bmp, 10, 20), ErrorCode.CORRUPT_IMAGE, "inside its headers");
    refused(le32(bmp, 34, 0x7FFF_FFFFL), ErrorCode.CORRUPT_IMAGE, "bytes of pixel data");
    refused(le32(bmp, 10, length - 100), ErrorCode.CORRUPT_IMAGE, "pixel data");
    refused(le32(bmp, 22, 31), ErrorCode.CORRUPT_IMAGE, "truncated"); // one row more than the file holds
    refused(le32(bmp, 18, 1_000_000), ErrorCode.CORRUPT_IMAGE, "truncated");
    refused(le32(bmp, 46, 0x4000_0000L), ErrorCode.CORRUPT_IMAGE, "palette");
    refused(le32(bmp, 46, 300), ErrorCode.CORRUPT_IMAGE, "palette");
    refused(le32(bmp, 2, length + 1L), ErrorCode.CORRUPT_IMAGE, "truncated");
  }

  @Test
  void bmp_dimensions_depths_and_header_kinds_no_photo_has_are_refused() {
    byte[] bmp = bmp(discs(40, 30, BufferedImage.TYPE_INT_RGB, 1), null);
    refused(le32(bmp, 18, 0), ErrorCode.CORRUPT_IMAGE, "width");
    refused(le32(bmp, 18, -40), ErrorCode.CORRUPT_IMAGE, "width");
    refused(le32(bmp, 22, 0), ErrorCode.CORRUPT_IMAGE, "height");
    refused(le32(bmp, 22, Integer.MIN_VALUE), ErrorCode.CORRUPT_IMAGE, "height");
    for (int bpp : new int[] {0, 2, 3, 7, 64, 65535}) {
      refused(le16(bmp, 28, bpp), ErrorCode.CORRUPT_IMAGE, "bits per pixel");
    }
    refused(le16(bmp, 26, 2), ErrorCode.CORRUPT_IMAGE, "planes");
    refused(le32(bmp, 30, 1), ErrorCode.CORRUPT_IMAGE, "bits per pixel"); // RLE8 at 24 bits
    refused(le32(bmp, 30, 6), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "compression 6");
    refused(le32(bmp, 30, 0xFFFF_FFFFL), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "compression");
    refused(le32(bmp, 14, 41), ErrorCode.CORRUPT_IMAGE, "unknown size");
    refused(le32(bmp, 14, 64), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "OS/2");
    refused(le32(bmp, 14, 0xFFFF_FFF0L), ErrorCode.CORRUPT_IMAGE, "unknown size");
    // top-down is fine uncompressed, not with RLE
    accepted(le32(bmp, 22, -30), 40, 30);
    byte[] rle = bmp(discs(40, 30, BufferedImage.TYPE_BYTE_INDEXED, 1), "BI_RLE8");
    refused(le32(rle, 22, -30), ErrorCode.CORRUPT_IMAGE, "top-down");
    refused(le32(rle, 34, 0), ErrorCode.CORRUPT_IMAGE, "RLE");
  }

  @Test
  void bmp_colour_profiles_are_refused_with_415() {
    byte[] bmp = bmp(discs(40, 30, BufferedImage.TYPE_INT_RGB, 1), null);
    // rewrite the 40-byte header as a 124-byte V5 one with a linked profile: the reader would open a path
    ByteBuffer v5 = ByteBuffer.allocate(bmp.length + 84).order(java.nio.ByteOrder.LITTLE_ENDIAN);
    v5.put(bmp, 0, 54).put(new byte[84]).put(bmp, 54, bmp.length - 54);
    byte[] b = v5.array();
    b = le32(b, 2, b.length);
    b = le32(b, 10, 54 + 84);
    b = le32(b, 14, 124);
    accepted(b, 40, 30);
    refused(le32(b, 14 + 56, 0x4C494E4BL), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "linked");
    refused(le32(b, 14 + 56, 0x4D424544L), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "embedded");
  }

  // ---- PNG ----------------------------------------------------------------------------------------

  @Test
  void png_headers_with_invalid_fields_are_refused_with_422() {
    byte[] png = png(discs(20, 10, BufferedImage.TYPE_INT_RGB, 1), false); // 8-bit RGB
    int[][] badDepths = {{0, 3}, {0, 32}, {2, 1}, {2, 4}, {3, 16}, {4, 2}, {6, 4}, {6, 0}, {1, 8}, {5, 8}, {7, 8}, {255, 8}};
    for (int[] c : badDepths) {
      refused(pngWithHeader(png, 20, 10, c[1], c[0], 0, 0, 0), ErrorCode.CORRUPT_IMAGE, "invalid combination");
    }
    refused(pngWithHeader(png, 20, 10, 8, 2, 1, 0, 0), ErrorCode.CORRUPT_IMAGE, "compression 1");
    refused(pngWithHeader(png, 20, 10, 8, 2, 0, 1, 0), ErrorCode.CORRUPT_IMAGE, "filter 1");
    refused(pngWithHeader(png, 20, 10, 8, 2, 0, 0, 2), ErrorCode.CORRUPT_IMAGE, "interlace 2");
    refused(pngWithHeader(png, 0, 10, 8, 2, 0, 0, 0), ErrorCode.CORRUPT_IMAGE, "1 to 2^31-1");
    refused(pngWithHeader(png, 20, 0, 8, 2, 0, 0, 0), ErrorCode.CORRUPT_IMAGE, "1 to 2^31-1");
    refused(pngWithHeader(png, Integer.MIN_VALUE, 10, 8, 2, 0, 0, 0), ErrorCode.CORRUPT_IMAGE, "1 to 2^31-1");
    refused(pngWithHeader(png, -1, -1, 8, 2, 0, 0, 0), ErrorCode.CORRUPT_IMAGE, "1 to 2^31-1");
    refused(pngWithHeader(png, Integer.MAX_VALUE, 1, 8, 2, 0, 0, 0), ErrorCode.IMAGE_TOO_LARGE, "pixels");
  }

  @Test
  void png_chunks_that_lie_or_break_the_order_are_refused_with_422() {
    byte[] png = png(discs(20, 10, BufferedImage.TYPE_INT_RGB, 1), false);
    int idat = pngChunkAt(png, "IDAT");
    byte[] ihdr = java.util.Arrays.copyOfRange(png, 8, 8 + 25);
    refused(pngWithChunk(png, ihdr), ErrorCode.CORRUPT_IMAGE, "more than one IHDR");
    byte[] lying = png.clone();
    ByteBuffer.wrap(lying).putInt(idat, 0x7FFF_FFF0);
    refused(lying, ErrorCode.CORRUPT_IMAGE, "runs past the end");
    ByteBuffer.wrap(lying).putInt(idat, 0x8000_0000);
    refused(lying, ErrorCode.CORRUPT_IMAGE, "2^31-1");
    refused(pngWithChunk(png, pngChunk("ABCD", new byte[4])), ErrorCode.CORRUPT_IMAGE, "unknown critical chunk");
    refused(pngWithChunk(png, pngChunk("ab1d", new byte[4])), ErrorCode.CORRUPT_IMAGE, "four letters");
    accepted(pngWithChunk(png, pngChunk("abCd", new byte[4])), 20, 10); // unknown ancillary: skipped
    refused(pngWithChunk(png, pngChunk("PLTE", new byte[3 * 300])), ErrorCode.CORRUPT_IMAGE, "palette");
    byte[] grey = png(discs(20, 10, BufferedImage.TYPE_BYTE_GRAY, 1), false);
    refused(pngWithChunk(grey, pngChunk("PLTE", new byte[6])), ErrorCode.CORRUPT_IMAGE, "greyscale");
    byte[] palette = png(discs(20, 10, BufferedImage.TYPE_BYTE_INDEXED, 1), false);
    int plte = pngChunkAt(palette, "PLTE");
    int plteLen = ByteBuffer.wrap(palette, plte, 4).getInt();
    byte[] noPalette = concat(java.util.Arrays.copyOf(palette, plte),
        java.util.Arrays.copyOfRange(palette, plte + 12 + plteLen, palette.length));
    refused(noPalette, ErrorCode.CORRUPT_IMAGE, "no palette");
    // IDAT, something else, IDAT
    int idatLen = ByteBuffer.wrap(png, idat, 4).getInt();
    byte[] split = concat(java.util.Arrays.copyOf(png, idat + 12 + idatLen), pngChunk("tEXt", "a\0b".getBytes()),
        pngChunk("IDAT", new byte[0]), java.util.Arrays.copyOfRange(png, idat + 12 + idatLen, png.length));
    refused(split, ErrorCode.CORRUPT_IMAGE, "not consecutive");
    byte[] noIdat = concat(java.util.Arrays.copyOf(png, idat), pngChunk("IEND", new byte[0]));
    refused(noIdat, ErrorCode.CORRUPT_IMAGE, "no image data");
    byte[] fatEnd = concat(java.util.Arrays.copyOf(png, pngChunkAt(png, "IEND")), pngChunk("IEND", new byte[1]));
    refused(fatEnd, ErrorCode.CORRUPT_IMAGE, "IEND");
  }

  @Test
  void png_metadata_that_inflates_past_its_budget_is_refused_with_413_and_corrupt_metadata_with_422() {
    byte[] png = png(discs(20, 10, BufferedImage.TYPE_INT_RGB, 1), false);
    byte[] bomb = deflate(new byte[ContainerChecks.MAX_INFLATED_METADATA + 1]); // about 4 KiB
    assertThat(bomb.length).isLessThan(10_000);
    refused(pngWithChunk(png, pngChunk("zTXt", concat("Comment\0\0".getBytes(StandardCharsets.ISO_8859_1), bomb))),
        ErrorCode.IMAGE_TOO_LARGE, "inflates");
    refused(pngWithChunk(png, pngChunk("iCCP", concat("icc\0\0".getBytes(StandardCharsets.ISO_8859_1), bomb))),
        ErrorCode.IMAGE_TOO_LARGE, "inflates");
    refused(pngWithChunk(png, pngChunk("iTXt", concat("Comment\0\1\0en\0\0".getBytes(StandardCharsets.ISO_8859_1), bomb))),
        ErrorCode.IMAGE_TOO_LARGE, "inflates");
    byte[] half = deflate(new byte[ContainerChecks.MAX_INFLATED_METADATA / 2 + 1]);
    byte[] twoHalves = pngWithChunk(pngWithChunk(png, pngChunk("zTXt", concat("a\0\0".getBytes(), half))),
        pngChunk("zTXt", concat("b\0\0".getBytes(), half)));
    refused(twoHalves, ErrorCode.IMAGE_TOO_LARGE, "inflates");
    refused(pngWithChunk(png, pngChunk("iCCP", concat("icc\0\0".getBytes(StandardCharsets.ISO_8859_1), new byte[] {1, 2, 3, 4}))),
        ErrorCode.CORRUPT_IMAGE, "iCCP");
    refused(pngWithChunk(png, pngChunk("zTXt", concat("a\0\1".getBytes(), deflate(new byte[10])))), ErrorCode.CORRUPT_IMAGE,
        "compression method");
    refused(pngWithChunk(png, pngChunk("zTXt", new byte[] {0, 0, 0})), ErrorCode.CORRUPT_IMAGE, "keyword");
    accepted(pngWithChunk(png, pngChunk("iTXt", concat("Comment\0\1\0en\0\0".getBytes(StandardCharsets.ISO_8859_1),
        deflate("hello".getBytes())))), 20, 10);
  }

  // ---- JPEG ---------------------------------------------------------------------------------------

  @Test
  void jpeg_frame_headers_a_decoder_cannot_take_are_refused() {
    byte[] jpeg = jpeg(discs(64, 48, BufferedImage.TYPE_INT_RGB, 1), false);
    int sof = jpegSegment(jpeg, 0xC0);
    refused(be16(jpeg, sof + 5, 0), ErrorCode.CORRUPT_IMAGE, "64x0");
    refused(be16(jpeg, sof + 7, 0), ErrorCode.CORRUPT_IMAGE, "0x48");
    refused(be16(jpeg, sof + 7, 65501), ErrorCode.IMAGE_TOO_LARGE, "65500");
    refused(be16(jpeg, sof + 5, 65535), ErrorCode.IMAGE_TOO_LARGE, "65500");
    refused(set(jpeg, sof + 4, 12), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "12-bit");
    for (int marker : new int[] {0xC3, 0xC5, 0xC9, 0xCA, 0xCB, 0xCF}) {
      refused(set(jpeg, sof + 1, marker), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "coding");
    }
    refused(set(jpeg, sof + 11, 0x50), ErrorCode.CORRUPT_IMAGE, "component"); // sampling 5x0
    refused(set(jpeg, sof + 12, 7), ErrorCode.CORRUPT_IMAGE, "component"); // quantisation table 7
    refused(set(jpeg, sof + 13, jpeg[sof + 10]), ErrorCode.CORRUPT_IMAGE, "twice");
    // a frame header whose length does not match its component count
    refused(set(jpeg, sof + 9, 5), ErrorCode.CORRUPT_IMAGE, "length");
    // 5 and 2 components with a length to match: well formed, but no photo has them
    refused(withComponents(jpeg, sof, 5), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "5 colour components");
    refused(withComponents(jpeg, sof, 2), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "2 colour components");
    refused(withComponents(jpeg, sof, 0), ErrorCode.CORRUPT_IMAGE, "no colour components");
  }

  /** The JPEG with its frame header rewritten for {@code n} components (1×1 sampling, table 0). */
  private static byte[] withComponents(byte[] jpeg, int sof, int n) {
    int length = ((jpeg[sof + 2] & 0xff) << 8) | (jpeg[sof + 3] & 0xff);
    byte[] header = new byte[2 + 8 + 3 * n];
    System.arraycopy(jpeg, sof, header, 0, 9);
    header[2] = (byte) ((8 + 3 * n) >> 8);
    header[3] = (byte) (8 + 3 * n);
    header[9] = (byte) n;
    for (int c = 0; c < n; c++) {
      header[10 + 3 * c] = (byte) (c + 1);
      header[11 + 3 * c] = 0x11;
    }
    return concat(java.util.Arrays.copyOf(jpeg, sof), header, java.util.Arrays.copyOfRange(jpeg, sof + 2 + length, jpeg.length));
  }

  @Test
  void jpeg_segments_that_lie_or_come_out_of_order_are_refused_with_422() {
    byte[] jpeg = jpeg(discs(64, 48, BufferedImage.TYPE_INT_RGB, 1), false);
    int sof = jpegSegment(jpeg, 0xC0);
    int sos = jpegSegment(jpeg, 0xDA);
    int sofLen = ((jpeg[sof + 2] & 0xff) << 8) | (jpeg[sof + 3] & 0xff);
    byte[] frame = java.util.Arrays.copyOfRange(jpeg, sof, sof + 2 + sofLen);
    // a second frame header (another size) before the scan
    byte[] twoFrames = concat(java.util.Arrays.copyOf(jpeg, sos), be16(frame, 5, 4000), java.util.Arrays.copyOfRange(jpeg, sos, jpeg.length));
    refused(twoFrames, ErrorCode.CORRUPT_IMAGE, "more than one frame header");
    // ... or after it
    int eoi = jpeg.length - 2;
    byte[] lateFrame = concat(java.util.Arrays.copyOf(jpeg, eoi), frame, java.util.Arrays.copyOfRange(jpeg, eoi, jpeg.length));
    refused(lateFrame, ErrorCode.CORRUPT_IMAGE, "more than one frame header");
    // a scan before any frame header
    byte[] noFrame = concat(java.util.Arrays.copyOf(jpeg, sof), java.util.Arrays.copyOfRange(jpeg, sof + 2 + sofLen, jpeg.length));
    refused(noFrame, ErrorCode.CORRUPT_IMAGE, "scan before its frame header");
    // segment lengths that run past the end or are too short to be lengths
    byte[] app = concat(java.util.Arrays.copyOf(jpeg, 2), new byte[] {(byte) 0xFF, (byte) 0xE1, (byte) 0xFF, (byte) 0xF0},
        java.util.Arrays.copyOfRange(jpeg, 2, jpeg.length));
    refused(app, ErrorCode.CORRUPT_IMAGE, "runs past the end");
    refused(be16(jpeg, sof + 2, 1), ErrorCode.CORRUPT_IMAGE, "runs past the end");
    refused(be16(jpeg, sos + 2, 0xFFFF), ErrorCode.CORRUPT_IMAGE, "runs past the end");
    refused(set(jpeg, sos + 4, 0), ErrorCode.CORRUPT_IMAGE, "scan header");
    refused(set(jpeg, sos + 4, 9), ErrorCode.CORRUPT_IMAGE, "scan header");
    // no end of image after the scan
    refused(java.util.Arrays.copyOf(jpeg, jpeg.length - 2), ErrorCode.CORRUPT_IMAGE, "end-of-image");
  }

  @Test
  void progressive_jpegs_are_walked_scan_by_scan() {
    byte[] progressive = jpeg(discs(64, 48, BufferedImage.TYPE_INT_RGB, 1), true);
    accepted(progressive, 64, 48);
    // a segment between two scans whose length runs past the end of the file
    int sos = jpegSegment(progressive, 0xDA);
    int second = -1;
    for (int i = sos + 2; i + 1 < progressive.length; i++) {
      if ((progressive[i] & 0xff) == 0xFF && (progressive[i + 1] & 0xff) == 0xDA) {
        second = i;
        break;
      }
    }
    assertThat(second).isPositive();
    refused(be16(progressive, second + 2, 0xFFF0), ErrorCode.CORRUPT_IMAGE, "runs past the end");
  }

  // ---- WebP ---------------------------------------------------------------------------------------

  @Test
  void webp_riff_and_chunk_sizes_that_lie_are_refused_with_422() {
    byte[] lossy = webpLossySimple();
    refused(le32(lossy, 4, lossy.length), ErrorCode.CORRUPT_IMAGE, "truncated");
    refused(le32(lossy, 4, 0xFFFF_FFF0L), ErrorCode.CORRUPT_IMAGE, "truncated");
    refused(le32(lossy, 4, 8), ErrorCode.CORRUPT_IMAGE, "no room");
    refused(le32(lossy, 16, lossy.length), ErrorCode.CORRUPT_IMAGE, "past the end");
    refused(le32(lossy, 16, 0x7FFF_FFFFL), ErrorCode.CORRUPT_IMAGE, "past the end");
    refused(le32(lossy, 4, lossy.length - 8 - 20), ErrorCode.CORRUPT_IMAGE, "past the end"); // RIFF shorter than its chunk
    byte[] lossless = webpLossless(30, 20, 1);
    refused(le32(lossless, 16, lossless.length), ErrorCode.CORRUPT_IMAGE, "past the end");
    byte[] extended = WEBP_LOSSY_ALPHA;
    refused(le32(extended, 16, 0x7FFF_FFF0L), ErrorCode.CORRUPT_IMAGE, "past the end"); // the VP8X chunk
    int alph = 12 + 8 + 10;
    refused(le32(extended, alph + 4, 0x1000_0000L), ErrorCode.CORRUPT_IMAGE, "past the end"); // the ALPH chunk
  }

  @Test
  void webp_bitstream_headers_that_lie_are_refused() {
    byte[] lossy = webpLossySimple();
    int vp8 = 20;
    refused(set(lossy, vp8, lossy[vp8] | 1), ErrorCode.CORRUPT_IMAGE, "key frame");
    refused(set(lossy, vp8 + 3, 0), ErrorCode.CORRUPT_IMAGE, "start code");
    refused(set(lossy, vp8 + 2, 0xFF), ErrorCode.CORRUPT_IMAGE, "first partition");
    refused(le16(lossy, vp8 + 6, 0), ErrorCode.CORRUPT_IMAGE, "0x16");
    refused(le16(lossy, vp8 + 8, 0xC000), ErrorCode.CORRUPT_IMAGE, "16x0");
    byte[] lossless = webpLossless(30, 20, 1);
    refused(set(lossless, 20, 0x2E), ErrorCode.CORRUPT_IMAGE, "signature");
    refused(set(lossless, 24, lossless[24] | 0x20), ErrorCode.CORRUPT_IMAGE, "version");
    // a VP8L header declaring 16384x16384 (the bitstream's largest)
    long dims = 16383L | 16383L << 14;
    refused(riff(webpChunk("VP8L", new byte[] {0x2F, (byte) dims, (byte) (dims >> 8), (byte) (dims >> 16), (byte) (dims >> 24), 0})),
        ErrorCode.IMAGE_TOO_LARGE, "pixels");
  }

  @Test
  void webp_canvases_and_animations_are_checked() {
    byte[] vp8l = webpChunk("VP8L", vp8l(30, 20, 1));
    accepted(riff(vp8x(0, 30, 20), vp8l), 30, 20);
    refused(riff(vp8x(0, 1 << 24, 1 << 24), vp8l), ErrorCode.IMAGE_TOO_LARGE, "pixels");
    refused(riff(vp8x(0, 31, 20), vp8l), ErrorCode.CORRUPT_IMAGE, "canvas");
    refused(riff(vp8x(0x02, 30, 20), vp8l), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "animated");
    refused(riff(vp8x(0, 30, 20), webpChunk("ANIM", new byte[6]), vp8l), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "animated");
    refused(riff(vp8x(0, 30, 20), webpChunk("ANMF", new byte[16])), ErrorCode.UNSUPPORTED_MEDIA_TYPE, "animated");
    refused(riff(vp8x(0, 30, 20)), ErrorCode.CORRUPT_IMAGE, "no image");
    refused(riff(vp8x(0, 30, 20), vp8l, vp8l), ErrorCode.CORRUPT_IMAGE, "more than one");
    refused(riff(vp8x(0, 30, 20), vp8x(0, 30, 20), vp8l), ErrorCode.CORRUPT_IMAGE, "second VP8X");
    refused(riff(webpChunk("VP8X", new byte[4]), vp8l), ErrorCode.CORRUPT_IMAGE, "VP8X chunk is 4 bytes");
    refused(riff(webpChunk("EXIF", new byte[4]), vp8l), ErrorCode.CORRUPT_IMAGE, "does not start");
  }
}
