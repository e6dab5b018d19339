package io.aiq.circles.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.testing.TestImages;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.util.Iterator;
import java.util.List;
import java.util.function.Supplier;
import javax.imageio.IIOException;
import javax.imageio.ImageIO;
import javax.imageio.ImageReadParam;
import javax.imageio.ImageReader;
import javax.imageio.ImageTypeSpecifier;
import javax.imageio.metadata.IIOMetadata;
import org.junit.jupiter.api.Test;

/** The decoder decodes the accepted formats only, and nothing that goes wrong inside it escapes as anything but CorruptImageException. */
class ImageDecoderTest {

  @Test
  void photos_decode_to_their_size() {
    BufferedImage img = ImageDecoder.decode(TestImages.coinPhoto());
    assertThat(img.getWidth()).isEqualTo(512);
    assertThat(img.getHeight()).isEqualTo(236);
  }

  @Test
  void formats_outside_the_allow_list_are_not_decoded_even_where_imageio_could() throws Exception {
    BufferedImage small = TestFiles.discs(8, 8, BufferedImage.TYPE_INT_RGB, 1);
    for (String format : new String[] {"gif", "tiff", "wbmp"}) {
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      BufferedImage img = format.equals("wbmp") ? TestFiles.discs(8, 8, BufferedImage.TYPE_BYTE_BINARY, 1) : small;
      assertThat(ImageIO.write(img, format, out)).as(format).isTrue();
      assertThat(ImageIO.read(new java.io.ByteArrayInputStream(out.toByteArray()))).as(format).isNotNull();
      assertThatThrownBy(() -> ImageDecoder.decode(out.toByteArray())).as(format)
          .isInstanceOf(ImageDecoder.CorruptImageException.class).hasMessageContaining("accepted format");
    }
    // a WBMP header (no magic bytes) declaring 2^28 x 2^28 pixels: ImageIO.read would try to allocate it
    byte[] wbmp = {0, 0, (byte) 0x81, (byte) 0x80, (byte) 0x80, (byte) 0x80, 0, (byte) 0x81, (byte) 0x80, (byte) 0x80,
        (byte) 0x80, 0};
    assertThatThrownBy(() -> ImageDecoder.decode(wbmp)).isInstanceOf(ImageDecoder.CorruptImageException.class);
  }

  @Test
  void corrupt_pixels_are_a_corrupt_image_without_the_decoders_exception_text() {
    assertThatThrownBy(() -> ImageDecoder.decode(TestImages.pngWithGarbagePixels()))
        .isInstanceOf(ImageDecoder.CorruptImageException.class)
        .hasMessage("the png image data cannot be decoded");
    assertThatThrownBy(() -> ImageDecoder.decode(TestImages.text()))
        .isInstanceOf(ImageDecoder.CorruptImageException.class).hasMessageContaining("not an image");
    assertThatThrownBy(() -> ImageDecoder.decode(new byte[0]))
        .isInstanceOf(ImageDecoder.CorruptImageException.class).hasMessageContaining("empty");
  }

  @Test
  void any_error_a_reader_throws_comes_out_as_corrupt_image() {
    List<Supplier<Throwable>> failures = List.of(
        () -> new OutOfMemoryError("Requested array size exceeds VM limit"),
        StackOverflowError::new,
        () -> new NegativeArraySizeException("-8"),
        () -> new ArrayIndexOutOfBoundsException("Index 70000 out of bounds for length 4096"),
        () -> new IllegalArgumentException("Width (0) and height (0) cannot be <= 0"),
        () -> new NullPointerException("Cannot read field \"value\" because \"x\" is null"),
        () -> new IIOException("Unsupported Image Type"),
        () -> new InternalError("native decoder"),
        () -> new NoClassDefFoundError("com/twelvemonkeys/Missing"));
    byte[] png = TestFiles.png(TestFiles.discs(8, 8, BufferedImage.TYPE_INT_RGB, 1), false);
    for (Supplier<Throwable> failure : failures) {
      assertThatThrownBy(() -> ImageDecoder.decode(png, f -> new FailingReader(failure)))
          .as(failure.get().getClass().getSimpleName())
          .isInstanceOf(ImageDecoder.CorruptImageException.class)
          .satisfies(e -> assertThat(e.getMessage()).startsWith("the png image")
              .doesNotContain(failure.get().getClass().getSimpleName())
              .doesNotContainIgnoringCase("exception").doesNotContain("bounds").doesNotContain("VM limit"));
    }
  }

  /**
   * Lossless WebPs the fuzz suite found (seed 7): TwelveMonkeys' VP8L decoder swallows the end of the
   * stream and goes on decoding stale bits, so these few dozen bytes made it allocate 4 GB and 32 GB
   * (Huffman code groups by the ten thousand) for 1×1 images, and 1.2 GB for a 37×4119 one, over
   * seconds of CPU each. The guarded stream stops a decoder that keeps reading past the end, and one
   * that allocates past its budget.
   */
  @Test
  void a_decoder_that_reads_on_past_the_end_or_allocates_past_its_budget_is_stopped() {
    com.sun.management.ThreadMXBean threads = (com.sun.management.ThreadMXBean) java.lang.management.ManagementFactory.getThreadMXBean();
    for (String b64 : new String[] {
        "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQw7uIiP4HAA==",
        "UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQDsCqgBRBoVxob1nwoCNq0cLRJhERiIj+BwA=",
        "UklGRloBAABXRUJQVlA4TE4BAAAvJIAFBDje7D+4j4Lc/yBJkiRJkiRpkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRZkiRJkiRJkiRJkiQJ"
            + "kiRJkiRJkiRJkiRJkiRJciRJkiRJkiRJkiRJkty2bSRJkiRJkiRJkiTJbdu2kSRJkiRJkiRJkty2bdtGkiRJkiRJkiTJbdu2bRtJkiRJkiRJ"
            + "kuS2bdu2jSRJkiRJkiRJctu2bdtGkiRJkiRJkiS3bdu2bRtJkiRJkiRJkty2bdu2kSRJkiRJkiRJbtu2bdtIkiRJkiRJkiS3bdu2bSRJkiRJ"
            + "kiRJkty2bdtGkiRJkiRJkiRJctu2bSRJkiRJkiRJkiTJbdtGkiRJkiRJkiRJkiTJkSRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJ"
            + "kiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiRJkiQJ"}) {
      byte[] webp = java.util.Base64.getDecoder().decode(b64);
      UploadValidator.Header header = new UploadValidator(40_000_000).inspect(webp, true);
      long before = threads.getCurrentThreadAllocatedBytes();
      long t0 = System.nanoTime();
      try {
        ImageDecoder.decode(webp);
      } catch (ImageDecoder.CorruptImageException expected) {
        // or decoded: either way, within the budget
      }
      long allocated = threads.getCurrentThreadAllocatedBytes() - before;
      assertThat(allocated).as("bytes allocated decoding a " + header.width() + "x" + header.height() + " WebP")
          .isLessThan(64 * header.pixels() + (16 << 20));
      assertThat((System.nanoTime() - t0) / 1_000_000).as("milliseconds").isLessThan(2_000);
    }
  }

  /** A reader whose read throws what it is given. */
  private static final class FailingReader extends ImageReader {
    private final Supplier<Throwable> failure;

    FailingReader(Supplier<Throwable> failure) {
      super(null);
      this.failure = failure;
    }

    @Override
    public BufferedImage read(int imageIndex, ImageReadParam param) throws java.io.IOException {
      Throwable t = failure.get();
      if (t instanceof java.io.IOException io) {
        throw io;
      }
      if (t instanceof RuntimeException r) {
        throw r;
      }
      throw (Error) t;
    }

    @Override
    public int getNumImages(boolean allowSearch) {
      return 1;
    }

    @Override
    public int getWidth(int imageIndex) {
      return 8;
    }

    @Override
    public int getHeight(int imageIndex) {
      return 8;
    }

    @Override
    public Iterator<ImageTypeSpecifier> getImageTypes(int imageIndex) {
      return List.<ImageTypeSpecifier>of().iterator();
    }

    @Override
    public IIOMetadata getStreamMetadata() {
      return null;
    }

    @Override
    public IIOMetadata getImageMetadata(int imageIndex) {
      return null;
    }
  }
}
