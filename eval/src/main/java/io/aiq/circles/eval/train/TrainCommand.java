package io.aiq.circles.eval.train;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.eval.CliOptions;
import io.aiq.circles.eval.CocoDataset;
import io.aiq.circles.eval.Evaluation;
import io.aiq.circles.eval.Prediction;
import io.aiq.circles.inference.tf.CenterDecoder;
import io.aiq.circles.inference.tf.Letterbox;
import io.vertx.core.json.JsonObject;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.Callable;
import javax.imageio.ImageIO;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code just train}: trains the coin detector from a COCO dataset and exports it as a SavedModel
 * with a {@code model.json} of its validation figures. One fold of the images (every k-th) is held
 * out and never trained on: the score threshold is chosen on it and every reported figure comes
 * from it.
 */
@Command(name = "aiq-train", sortOptions = false, usageHelpWidth = 100,
    description = "Trains the CenterNet-style coin detector with TensorFlow Java and exports a SavedModel.")
public final class TrainCommand implements Callable<Integer> {
  /** Images are loaded at most this large: the input is 320 pixels, more only costs memory. */
  static final int MAX_SIDE = 800;

  @Mixin
  CliOptions.Dataset dataset;

  @Option(names = "--out", defaultValue = "models/circles", description = "SavedModel folder to write (default: ${DEFAULT-VALUE})")
  Path out;

  @Option(names = "--steps", defaultValue = "12000", description = "training steps (default: ${DEFAULT-VALUE})")
  int steps;

  @Option(names = "--batch", defaultValue = "8", description = "images per step (default: ${DEFAULT-VALUE})")
  int batch;

  @Option(names = "--lr", defaultValue = "0.002", description = "peak learning rate (default: ${DEFAULT-VALUE})")
  float lr;

  @Option(names = "--size-weight", defaultValue = "5", description = "weight of the size error (L1 of log sizes) "
      + "against the heatmap's; larger weighs box tightness more (default: ${DEFAULT-VALUE})")
  float sizeWeight;

  @Option(names = "--ema-decay", defaultValue = "0.999", description = "decay of the moving average of the weights "
      + "that is validated and exported; 0 exports the last step's weights (default: ${DEFAULT-VALUE})")
  float emaDecay;

  @Option(names = "--seed", defaultValue = "7", description = "seed of every random choice (default: ${DEFAULT-VALUE})")
  long seed;

  @Mixin
  CliOptions.Folds folds;

  @Option(names = "--val-fold", defaultValue = "0", description = "which fold to hold out (default: ${DEFAULT-VALUE})")
  int valFold;

  @Option(names = "--threads", defaultValue = "0", description = "TensorFlow threads, 0 = all cores (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--limit", defaultValue = "0", description = "use only the first N images (for quick checks)")
  int limit;

  @Option(names = "--version", defaultValue = "4", description = "the model version to record (default: ${DEFAULT-VALUE})")
  String modelVersion;

  /** Not picocli's standard help options: their -V, --version would clash with the model's --version. */
  @Mixin
  CliOptions.Help help;

  public static void main(String[] args) {
    System.exit(new CommandLine(new TrainCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    long t0 = System.nanoTime();
    CocoDataset data = CocoDataset.load(dataset.path, Set.of());
    List<Sample> train = new ArrayList<>();
    List<Sample> val = new ArrayList<>();
    List<CocoDataset.Image> images = limit > 0 ? data.images().subList(0, Math.min(limit, data.images().size())) : data.images();
    for (int i = 0; i < images.size(); i++) {
      Sample s = load(data, images.get(i));
      (i % folds.count == valFold && images.size() >= folds.count ? val : train).add(s);
    }
    System.out.printf(Locale.ROOT, "training on %d images, validating on %d (fold %d of %d), %d steps of %d%n",
        train.size(), val.size(), valFold, folds.count, steps, batch);
    Random random = new Random(seed);
    Augmenter augmenter = new Augmenter(random, CenterNet.INPUT, train);
    Trainer.Sampler sampler = new Trainer.Sampler(train.size(), random);
    // the next batch is augmented on another thread while TensorFlow runs this one; one thread, in
    // order, so the sequence of batches depends on the seed alone
    java.util.concurrent.ExecutorService prefetch = java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
      Thread t = new Thread(r, "augment");
      t.setDaemon(true);
      return t;
    });
    Callable<List<Augmenter.View>> nextBatch = () -> {
      List<Augmenter.View> views = new ArrayList<>(batch);
      for (int b = 0; b < batch; b++) {
        views.add(augmenter.augment(train.get(sampler.next())));
      }
      return views;
    };
    try (Trainer trainer = new Trainer(seed, threads, sizeWeight)) {
      double lossSum = 0;
      int lossCount = 0;
      long tStep = System.nanoTime();
      java.util.concurrent.Future<List<Augmenter.View>> pending = prefetch.submit(nextBatch);
      for (int step = 1; step <= steps; step++) {
        List<Augmenter.View> views = pending.get();
        if (step < steps) {
          pending = prefetch.submit(nextBatch);
        }
        float loss = trainer.step(views, learningRate(step));
        if (emaDecay > 0) {
          trainer.updateAverages(step, emaDecay);
        }
        if (!Float.isFinite(loss)) {
          System.err.println("loss diverged at step " + step);
          return 2;
        }
        lossSum += loss;
        lossCount++;
        if (step % 50 == 0 || step == steps) {
          double perStep = (System.nanoTime() - tStep) / 1e6 / lossCount;
          System.out.printf(Locale.ROOT, "step %5d/%d  loss %.4f  lr %.5f  %.0f ms/step  eta %.1f min%n", step, steps,
              lossSum / lossCount, learningRate(step), perStep, perStep * (steps - step) / 60000);
          lossSum = 0;
          lossCount = 0;
          tStep = System.nanoTime();
        }
        if (step % 1000 == 0) {
          trainer.checkpoint(out.resolveSibling(out.getFileName() + ".checkpoints").resolve("step-" + step));
        }
      }
      if (emaDecay > 0) {
        trainer.useAverages();
      }
      JsonObject validation = val.isEmpty() ? new JsonObject() : validate(trainer, val);
      trainer.export(out);
      JsonObject card = new JsonObject().put("name", "circles-centernet").put("version", modelVersion)
          .put("input", new JsonObject().put("size", CenterNet.INPUT).put("layout", "NHWC RGB float32 in [0,1], letterboxed")
              .put("stride", CenterNet.STRIDE))
          .put("scoreThreshold", validation.getDouble("scoreThreshold", 0.3))
          .put("validation", validation)
          .put("training", new JsonObject().put("dataset", dataset.path.toString()).put("images", train.size())
              .put("heldOutFold", valFold).put("folds", folds.count).put("steps", steps).put("batch", batch).put("lr", lr).put("sizeWeight", sizeWeight)
              .put("emaDecay", emaDecay).put("seed", seed)
              .put("oneDnn", String.valueOf(System.getenv("TF_ENABLE_ONEDNN_OPTS"))).put("seconds", (System.nanoTime() - t0) / 1e9).put("finishedAt", Instant.now().toString()));
      Files.writeString(out.resolve("model.json"), card.encodePrettily());
      System.out.println("exported " + out.toAbsolutePath());
      System.out.println("validation: " + validation.encode());
    } finally {
      prefetch.shutdownNow();
    }
    return 0;
  }

  /** Linear warm-up over the first 5 % of the steps, then cosine decay to 2 % of the peak. */
  float learningRate(int step) {
    int warm = Math.max(1, steps / 20);
    if (step <= warm) {
      return lr * step / warm;
    }
    double progress = (double) (step - warm) / Math.max(1, steps - warm);
    return (float) (lr * (0.02 + 0.98 * 0.5 * (1 + Math.cos(Math.PI * progress))));
  }

  /** Figures on the held-out images, at the score threshold that gives them the best F1 at IoU 0.5. */
  static JsonObject validate(Trainer trainer, List<Sample> val) {
    List<List<Prediction>> predictions = new ArrayList<>();
    List<List<BoundingBox>> truth = new ArrayList<>();
    for (Sample s : val) {
      Augmenter.View view = Augmenter.plain(s, CenterNet.INPUT);
      Letterbox lb = Letterbox.of(s.image().getWidth(), s.image().getHeight(), CenterNet.INPUT);
      List<CenterDecoder.Candidate> found = trainer.predict(List.of(view.pixels()), 0.01).get(0);
      predictions.add(found.stream().map(c -> new Prediction(lb.toSource(c.x0(), c.y0(), c.x1(), c.y1()), c.score())).toList());
      truth.add(s.coins());
    }
    Evaluation.Counts[] byScore = Evaluation.countsByScoreThreshold(predictions, truth);
    Evaluation.BestThreshold best = Evaluation.bestThreshold(byScore);
    List<Evaluation.Assignment> kept = new ArrayList<>();
    for (int i = 0; i < val.size(); i++) {
      kept.add(Evaluation.assign(predictions.get(i).stream().filter(p -> p.score() >= best.score()).toList(), truth.get(i)));
    }
    JsonObject out = new JsonObject().put("images", val.size()).put("scoreThreshold", best.score());
    for (double t : Evaluation.THRESHOLDS) {
      Evaluation.Counts c = Evaluation.total(kept, t);
      out.put("f1@" + t, c.f1()).put("precision@" + t, c.precision()).put("recall@" + t, c.recall());
    }
    out.put("jaccard", Evaluation.jaccard(kept).mean());
    out.put("ap50", Evaluation.averagePrecision(predictions, truth, 0.5).ap());
    return out;
  }

  static Sample load(CocoDataset data, CocoDataset.Image image) throws IOException {
    BufferedImage img = ImageIO.read(data.pathOf(image).toFile());
    if (img == null) {
      throw new IOException("cannot decode " + image.fileName());
    }
    double scale = Math.min(1.0, (double) MAX_SIDE / Math.max(img.getWidth(), img.getHeight()));
    BufferedImage rgb = new BufferedImage((int) Math.round(img.getWidth() * scale), (int) Math.round(img.getHeight() * scale),
        BufferedImage.TYPE_3BYTE_BGR);
    Graphics2D g = rgb.createGraphics();
    g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
    g.drawImage(img, 0, 0, rgb.getWidth(), rgb.getHeight(), null);
    g.dispose();
    List<BoundingBox> coins = image.truth().stream().map(b -> new BoundingBox(b.xmin() * scale, b.ymin() * scale,
        b.xmax() * scale, b.ymax() * scale)).toList();
    return new Sample(image.fileName(), rgb, coins);
  }
}
