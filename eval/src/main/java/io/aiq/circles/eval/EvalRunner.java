package io.aiq.circles.eval;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/** Runs a predictor over every image of a dataset, at most {@code concurrency} at a time. */
public final class EvalRunner {
  private EvalRunner() {
  }

  /** @return the predictions per image, in the dataset's order */
  public static List<ImagePredictions> run(CocoDataset dataset, Predictor predictor, int concurrency, boolean progress)
      throws InterruptedException {
    ExecutorService pool = Executors.newFixedThreadPool(Math.max(1, concurrency));
    ProgressBar bar = progress ? new ProgressBarBuilder().setTaskName("evaluating").setInitialMax(dataset.images().size())
        .setStyle(ProgressBarStyle.ASCII).continuousUpdate().build() : null;
    try {
      List<Future<ImagePredictions>> futures = new ArrayList<>();
      for (CocoDataset.Image image : dataset.images()) {
        futures.add(pool.submit(() -> {
          ImagePredictions p = predictor.predict(dataset.pathOf(image));
          if (bar != null) {
            bar.step();
          }
          return p;
        }));
      }
      List<ImagePredictions> results = new ArrayList<>(futures.size());
      for (Future<ImagePredictions> f : futures) {
        try {
          results.add(f.get());
        } catch (java.util.concurrent.ExecutionException e) {
          results.add(ImagePredictions.failed(0, "evaluation failed: " + e.getCause()));
        }
      }
      return results;
    } finally {
      pool.shutdownNow();
      if (bar != null) {
        bar.close();
      }
    }
  }
}
