package io.aiq.circles.images;

import java.awt.image.BufferedImage;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import javax.imageio.ImageIO;

/** Decodes image bytes with ImageIO (JPEG, PNG, BMP built in; WebP through the TwelveMonkeys plugin). */
public final class ImageDecoder {
  private ImageDecoder() {
  }

  /** @throws CorruptImageException when the bytes are not a decodable image */
  public static BufferedImage decode(byte[] bytes) {
    try {
      BufferedImage img = ImageIO.read(new ByteArrayInputStream(bytes));
      if (img == null) {
        throw new CorruptImageException("no image reader understands these bytes");
      }
      return img;
    } catch (IOException | RuntimeException e) {
      if (e instanceof CorruptImageException c) {
        throw c;
      }
      throw new CorruptImageException("the image cannot be decoded: " + e.getMessage());
    }
  }

  public static final class CorruptImageException extends RuntimeException {
    public CorruptImageException(String message) {
      super(message, null, false, false);
    }
  }
}
