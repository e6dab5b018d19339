package io.aiq.circles.inference;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.contracts.events.DetectionFailed;
import io.aiq.circles.images.ImageDecoder;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** One micro-batch through decode and detection, on a worker thread. */
final class BatchRun {
  private static final Logger LOG = LoggerFactory.getLogger(BatchRun.class);

  /**
   * A job's result: detections, or a failure reason (a {@link DetectionFailed} code).
   *
   * @param millis decoding plus this image's share of the model call
   * @param decodeNanos decoding alone
   */
  record Outcome(List<Detection> detections, String reason, String message, long millis, long decodeNanos) {
    static Outcome failed(String reason, String message) {
      return new Outcome(null, reason, message, 0, 0);
    }
  }

  record Result(List<Outcome> outcomes, long millis) {
  }

  private BatchRun() {
  }

  /**
   * @param blobs the image bytes per job, null where the blob could not be read
   */
  static Result run(Detector detector, List<byte[]> blobs, int maxAttempts, long backoffMs) throws InterruptedException {
    long start = System.nanoTime();
    Outcome[] outcomes = new Outcome[blobs.size()];
    List<BufferedImage> images = new ArrayList<>();
    List<Integer> index = new ArrayList<>();
    long[] decodeNanos = new long[blobs.size()];
    for (int i = 0; i < blobs.size(); i++) {
      byte[] bytes = blobs.get(i);
      if (bytes == null) {
        outcomes[i] = Outcome.failed(DetectionFailed.IMAGE_MISSING, "the stored image could not be read");
        continue;
      }
      long t0 = System.nanoTime();
      try {
        images.add(detector.decode(bytes));
        index.add(i);
      } catch (ImageDecoder.CorruptImageException e) {
        outcomes[i] = Outcome.failed(DetectionFailed.CORRUPT_IMAGE, e.getMessage());
      } catch (RuntimeException | OutOfMemoryError | StackOverflowError e) {
        // A decoder that allocates what a lying header declares ("Requested array size exceeds VM
        // limit"), recurses without end or trips over its own bounds fails this image alone; the
        // heap it asked for was never granted, so the process goes on.
        LOG.warn("decoding image {} of the batch failed: {}", i, e.toString());
        outcomes[i] = Outcome.failed(DetectionFailed.CORRUPT_IMAGE, "the image cannot be decoded ("
            + e.getClass().getSimpleName() + ")");
      }
      decodeNanos[i] = System.nanoTime() - t0;
    }
    if (!images.isEmpty()) {
      long t0 = System.nanoTime();
      List<List<Detection>> found = detectWithRetries(detector, images, maxAttempts, backoffMs);
      long perImage = (System.nanoTime() - t0) / images.size();
      if (found == null && images.size() > 1) {
        // one image the model cannot take must not fail its batchmates: each alone, once
        LOG.warn("the detector failed on a batch of {}; running its images one by one", images.size());
        found = new ArrayList<>(images.size());
        for (BufferedImage image : images) {
          List<List<Detection>> alone = detectWithRetries(detector, List.of(image), 1, backoffMs);
          found.add(alone == null ? null : alone.get(0));
        }
      }
      for (int k = 0; k < index.size(); k++) {
        int i = index.get(k);
        List<Detection> dets = found == null ? null : found.get(k);
        outcomes[i] = dets == null
            ? Outcome.failed(DetectionFailed.MODEL_ERROR, "the detector failed on this image")
            : new Outcome(dets, null, null, (decodeNanos[i] + perImage) / 1_000_000, decodeNanos[i]);
      }
    }
    return new Result(Arrays.asList(outcomes), (System.nanoTime() - start) / 1_000_000);
  }

  private static List<List<Detection>> detectWithRetries(Detector detector, List<BufferedImage> images,
                                                         int maxAttempts, long backoffMs) throws InterruptedException {
    for (int attempt = 1; attempt <= maxAttempts; attempt++) {
      try {
        List<List<Detection>> found = detector.detect(images);
        if (found.size() != images.size()) {
          throw new IllegalStateException("the detector answered " + found.size() + " results for " + images.size() + " images");
        }
        return found;
      } catch (InterruptedException e) {
        throw e;
      } catch (Exception | OutOfMemoryError | StackOverflowError e) {
        LOG.warn("detector failed on a batch of {} (attempt {} of {}): {}", images.size(), attempt, maxAttempts, e.toString());
        if (attempt < maxAttempts) {
          Thread.sleep(backoffMs * attempt);
        }
      }
    }
    return null;
  }
}
