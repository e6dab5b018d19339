package io.aiq.circles.inference;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.images.ImageDecoder;
import java.awt.image.BufferedImage;
import java.util.List;

/**
 * Finds circular objects in decoded images. Implementations are called from worker threads, one batch
 * at a time per thread, and may block.
 */
public interface Detector extends AutoCloseable {

  String modelName();

  String modelVersion();

  /** Whether the model is loaded and answers: part of readiness. */
  boolean ready();

  /**
   * Decodes stored image bytes for {@link #detect}; a detector may bring a faster decoder for the
   * formats it sees most.
   *
   * @throws ImageDecoder.CorruptImageException when the bytes are not a decodable image
   */
  default BufferedImage decode(byte[] bytes) {
    return ImageDecoder.decode(bytes);
  }

  /**
   * @return for each image, its detections in descending score order, boxes in the image's pixels
   * @throws Exception a model failure; the caller retries it a bounded number of times
   */
  List<List<Detection>> detect(List<BufferedImage> images) throws Exception;

  @Override
  default void close() {
  }
}
