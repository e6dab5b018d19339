package io.aiq.circles.inference.tf;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.contracts.Detection;
import io.aiq.circles.testing.TestImages;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * The inference role shares one detector between its worker threads, TensorFlow runs each call on
 * its caller's thread, and each thread reuses its input array: a call must answer exactly what it
 * answers alone, on a fresh detector, whatever ran before or beside it.
 */
class TfDetectorConcurrencyTest {
  private static final int CALLERS = 4;
  private static final int ROUNDS = 10;

  @Test
  @SuppressWarnings("unchecked")
  void concurrent_callers_get_the_answers_a_lone_caller_gets() throws Exception {
    List<byte[]> photos = List.of(TestImages.coinPhoto(), TestImages.otherCoinPhoto(),
        TestImages.discs(400, 300, "jpg", 1), TestImages.discs(320, 480, "jpg", 2));
    try (TfDetector detector = new TfDetector(TfJpegDecoderTest.SHIPPED_MODEL, 1, null)) {
      // what each pair of photos gets as a batch of two, asked one call at a time
      List<List<Detection>>[][] alone = new List[photos.size()][photos.size()];
      for (int i = 0; i < photos.size(); i++) {
        for (int j = 0; j < photos.size(); j++) {
          alone[i][j] = detector.detect(List.of(detector.decode(photos.get(i)), detector.decode(photos.get(j))));
          assertThat(alone[i][j]).allSatisfy(found -> assertThat(found).isNotEmpty());
        }
      }

      ExecutorService pool = Executors.newFixedThreadPool(CALLERS);
      try {
        CountDownLatch start = new CountDownLatch(1);
        List<Future<List<List<List<Detection>>>>> calls = new ArrayList<>();
        for (int c = 0; c < CALLERS; c++) {
          int first = c;
          calls.add(pool.submit(() -> {
            start.await();
            List<List<List<Detection>>> answers = new ArrayList<>();
            for (int round = 0; round < ROUNDS; round++) {
              // each caller decodes and detects its own photo in batches of two, the others mixed in
              byte[] mine = photos.get(first % photos.size());
              byte[] other = photos.get((first + round + 1) % photos.size());
              List<BufferedImage> batch = List.of(detector.decode(mine), detector.decode(other));
              answers.add(detector.detect(batch));
            }
            return answers;
          }));
        }
        start.countDown();
        for (int c = 0; c < CALLERS; c++) {
          List<List<List<Detection>>> answers = calls.get(c).get();
          for (int round = 0; round < ROUNDS; round++) {
            assertThat(answers.get(round)).as("caller %d, round %d", c, round)
                .isEqualTo(alone[c % photos.size()][(c + round + 1) % photos.size()]);
          }
        }
      } finally {
        pool.shutdownNow();
      }
    }
  }

  @Test
  void a_photo_gets_the_same_answer_whatever_the_thread_detected_before() throws Exception {
    // a wide photo is padded above and below, where a tall one has discs
    byte[] wide = TestImages.discs(480, 140, "jpg", 3);
    byte[] tall = TestImages.discs(140, 480, "jpg", 4);
    List<Detection> fresh;
    try (TfDetector detector = new TfDetector(TfJpegDecoderTest.SHIPPED_MODEL, 1, null)) {
      fresh = detector.detect(List.of(detector.decode(wide))).get(0);
    }
    assertThat(fresh).isNotEmpty();
    try (TfDetector detector = new TfDetector(TfJpegDecoderTest.SHIPPED_MODEL, 1, null)) {
      // a batch of tall photos first: their pixels are in this thread's input array
      List<List<Detection>> before = detector.detect(List.of(detector.decode(tall), detector.decode(tall)));
      assertThat(before.get(0)).isNotEmpty();

      assertThat(detector.detect(List.of(detector.decode(wide))).get(0)).isEqualTo(fresh);
    }
  }
}
