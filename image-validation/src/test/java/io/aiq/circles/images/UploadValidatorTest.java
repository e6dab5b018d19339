package io.aiq.circles.images;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.aiq.circles.contracts.ErrorCode;
import io.aiq.circles.testing.TestImages;
import java.util.Base64;
import org.assertj.core.api.ThrowableAssert;
import org.junit.jupiter.api.Test;

class UploadValidatorTest {
  private final UploadValidator validator = new UploadValidator(40_000_000);

  private static void rejected(ThrowableAssert.ThrowingCallable call, ErrorCode code) {
    assertThatThrownBy(call).isInstanceOf(UploadRejected.class)
        .satisfies(e -> assertThat(((UploadRejected) e).code()).isEqualTo(code));
  }

  @Test
  void a_jpeg_photo_is_accepted_with_its_size_and_content_hash() {
    ValidatedImage img = validator.validate(TestImages.coinPhoto());

    assertThat(img.format()).isEqualTo(ImageFormat.JPEG);
    assertThat(img.width()).isEqualTo(512);
    assertThat(img.height()).isEqualTo(236);
    assertThat(img.sha256()).matches("[0-9a-f]{64}");
    assertThat(img.sha256()).isEqualTo(UploadValidator.sha256(TestImages.coinPhoto()));
  }

  @Test
  void png_and_bmp_are_accepted() {
    assertThat(validator.validate(TestImages.discs(33, 21, "png", 1)).format()).isEqualTo(ImageFormat.PNG);
    ValidatedImage bmp = validator.validate(TestImages.discs(33, 21, "bmp", 1));
    assertThat(bmp.format()).isEqualTo(ImageFormat.BMP);
    assertThat(bmp.width()).isEqualTo(33);
    assertThat(bmp.height()).isEqualTo(21);
  }

  @Test
  void webp_is_accepted_through_the_imageio_plugin() {
    // a 1x1 lossless WebP
    byte[] webp = Base64.getDecoder().decode("UklGRhoAAABXRUJQVlA4TA0AAAAvAAAAEAcQERGIiP4HAA==");
    ValidatedImage img = validator.validate(webp);
    assertThat(img.format()).isEqualTo(ImageFormat.WEBP);
    assertThat(img.width()).isEqualTo(1);
  }

  @Test
  void the_format_comes_from_the_bytes_not_from_a_name_or_content_type() {
    rejected(() -> validator.validate(TestImages.text()), ErrorCode.UNSUPPORTED_MEDIA_TYPE);
    rejected(() -> validator.validate("GIF89a..........".getBytes()), ErrorCode.UNSUPPORTED_MEDIA_TYPE);
    rejected(() -> validator.validate(new byte[] {'M', 'Z', 0, 0}), ErrorCode.UNSUPPORTED_MEDIA_TYPE);
  }

  @Test
  void an_empty_upload_is_a_missing_file() {
    rejected(() -> validator.validate(new byte[0]), ErrorCode.MISSING_FILE);
  }

  @Test
  void the_pixel_limit_is_checked_from_the_header() {
    rejected(() -> validator.validate(TestImages.pngDeclaring(7000, 7000)), ErrorCode.IMAGE_TOO_LARGE);
    assertThat(new UploadValidator(49_000_000).validate(TestImages.pngDeclaring(7000, 7000)).width()).isEqualTo(7000);
  }

  @Test
  void truncated_and_corrupt_containers_are_refused() {
    byte[] jpeg = TestImages.coinPhoto();
    for (double f : new double[] {0.005, 0.05, 0.5, 0.99}) {
      rejected(() -> validator.validate(TestImages.truncated(jpeg, f)), ErrorCode.CORRUPT_IMAGE);
    }
    byte[] png = TestImages.discs(100, 100, "png", 4);
    for (double f : new double[] {0.1, 0.5, 0.999}) {
      rejected(() -> validator.validate(TestImages.truncated(png, f)), ErrorCode.CORRUPT_IMAGE);
    }
    rejected(() -> validator.validate(TestImages.pngWithBadCrc()), ErrorCode.CORRUPT_IMAGE);
    rejected(() -> validator.validate(TestImages.truncated(TestImages.discs(50, 50, "bmp", 1), 0.8)), ErrorCode.CORRUPT_IMAGE);
  }

  @Test
  void bytes_after_the_end_of_a_jpeg_are_tolerated() {
    byte[] jpeg = TestImages.coinPhoto();
    byte[] trailing = java.util.Arrays.copyOf(jpeg, jpeg.length + 100);
    assertThat(validator.validate(trailing).format()).isEqualTo(ImageFormat.JPEG);
  }

  @Test
  void the_byte_limit_of_the_configuration_applies_to_every_image() {
    byte[] photo = TestImages.coinPhoto();
    rejected(() -> new UploadValidator(photo.length - 1, 40_000_000).validate(photo), ErrorCode.PAYLOAD_TOO_LARGE);
    assertThat(new UploadValidator(photo.length, 40_000_000).validate(photo).sizeBytes()).isEqualTo(photo.length);
    rejected(() -> new UploadValidator(photo.length, 512 * 235).validate(photo), ErrorCode.IMAGE_TOO_LARGE);
  }
}
