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
 * from it. With {@code --cv K} it trains K such models, one per fold, and reports each figure's mean
 * and spread over the folds ({@link CrossValidation}).
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

  @Option(names = "--overlap-paste", defaultValue = "0", description = "chance that a pasted coin is laid partly "
      + "over another coin of the view (0: the version 5 recipe) (default: ${DEFAULT-VALUE})")
  double overlapPaste;

  @Option(names = "--seed", defaultValue = "7", description = "seed of every random choice (default: ${DEFAULT-VALUE})")
  long seed;

  @Mixin
  CliOptions.Folds folds;

  @Option(names = "--val-fold", defaultValue = "0", description = "which fold to hold out (default: ${DEFAULT-VALUE})")
  int valFold;

  @Option(names = "--cv", defaultValue = "0", paramLabel = "<K>", description = "cross-validate: train K models, each "
      + "holding out one of K folds, into OUT/fold-0 ... fold-(K-1), and write OUT/cv.json with each metric's mean and "
      + "standard deviation over the folds and the score threshold that is best on all held-out images together "
      + "(0: train one model, holding out --val-fold of --folds)")
  int cv;

  @Option(names = "--all", description = "train on every image, holding none out: the shipped model, once a "
      + "cross-validation chose its recipe; its figures are then the cross-validation's (--selection), never its own")
  boolean all;

  @Option(names = "--selection", paramLabel = "SELECTION_JSON", description = "the served post-processing chosen by "
      + "`just eval --select-cv` (overlap suppression, score threshold) and the estimate it recorded, written into "
      + "model.json; required with --all")
  Path selection;

  @Option(names = "--threads", defaultValue = "0", description = "TensorFlow threads, 0 = all cores (default: ${DEFAULT-VALUE})")
  int threads;

  @Option(names = "--limit", defaultValue = "0", description = "use only the first N images (for quick checks)")
  int limit;

  @Option(names = "--version", defaultValue = "5", description = "the model version to record (default: ${DEFAULT-VALUE})")
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
    if (selection != null) {
      // read now, not after half an hour of training
      JsonObject chosen = new JsonObject(Files.readString(selection)).getJsonObject("chosen");
      if (chosen == null || chosen.getDouble("scoreThreshold") == null) {
        System.err.println(selection + " is not a selection (just eval --select-cv writes one)");
        return 2;
      }
      io.aiq.circles.inference.tf.OverlapSuppression.parse(chosen.getString("suppressOverlaps"));
      io.aiq.circles.inference.tf.EdgeRefinement.parse(chosen.getString("refineEdges", "none"));
    }
    CocoDataset data = CocoDataset.load(dataset.path, Set.of());
    List<CocoDataset.Image> images = limit > 0 ? data.images().subList(0, Math.min(limit, data.images().size())) : data.images();
    List<Sample> samples = new ArrayList<>(images.size());
    for (CocoDataset.Image image : images) {
      samples.add(load(data, image));
    }
    if (cv > 0) {
      return crossValidate(samples, t0);
    }
    if (all) {
      if (selection == null) {
        System.err.println("--all holds no image out, so nothing here can choose its threshold: pass --selection "
            + "(just eval --select-cv writes one from a cross-validation)");
        return 2;
      }
      return trainOne(new Fold(samples, List.of()), -1, 1, out, t0) == null ? 2 : 0;
    }
    Fold fold = split(samples, folds.count, valFold);
    return trainOne(fold, valFold, folds.count, out, t0) == null ? 2 : 0;
  }

  /** The training and held-out images of one fold: every k-th image is held out. */
  record Fold(List<Sample> train, List<Sample> val) {
  }

  static Fold split(List<Sample> samples, int k, int held) {
    List<Sample> train = new ArrayList<>();
    List<Sample> val = new ArrayList<>();
    for (int i = 0; i < samples.size(); i++) {
      (i % k == held && samples.size() >= k ? val : train).add(samples.get(i));
    }
    return new Fold(train, val);
  }

  /**
   * K models, each trained without one fold and validated on it. The estimate for unseen photos is
   * the mean over the folds (with its spread), never the best fold; the threshold is chosen on all
   * held-out images together, so no fold picks its own.
   */
  private int crossValidate(List<Sample> samples, long t0) throws Exception {
    if (cv < 2 || samples.size() < cv) {
      System.err.println("--cv needs at least 2 folds and as many images as folds");
      return 2;
    }
    List<JsonObject> figures = new ArrayList<>();
    io.vertx.core.json.JsonArray heldOut = new io.vertx.core.json.JsonArray();
    Evaluation.Counts[] pooled = null;
    for (int k = 0; k < cv; k++) {
      System.out.printf(Locale.ROOT, "---- fold %d of %d ----%n", k, cv);
      Fold fold = split(samples, cv, k);
      heldOut.add(new io.vertx.core.json.JsonArray(fold.val().stream().map(Sample::name).toList()));
      Trained t = trainOne(fold, k, cv, out.resolve("fold-" + k), System.nanoTime());
      if (t == null) {
        return 2;
      }
      figures.add(t.validation());
      pooled = pooled == null ? t.byScore() : add(pooled, t.byScore());
    }
    JsonObject summary = CrossValidation.summary(figures, Evaluation.bestThreshold(pooled));
    // the held-out files by name, so that scoring the fold models later needs no re-derivation of the split
    summary.put("heldOut", heldOut);
    summary.put("folds", cv).put("images", samples.size()).put("steps", steps).put("seed", seed).put("overlapPaste", overlapPaste)
        .put("seconds", (System.nanoTime() - t0) / 1e9).put("finishedAt", Instant.now().toString());
    Files.createDirectories(out);
    Files.writeString(out.resolve("cv.json"), summary.encodePrettily());
    System.out.println(CrossValidation.table(summary));
    System.out.println("wrote " + out.resolve("cv.json").toAbsolutePath());
    return 0;
  }

  private static Evaluation.Counts[] add(Evaluation.Counts[] a, Evaluation.Counts[] b) {
    Evaluation.Counts[] sum = new Evaluation.Counts[a.length];
    for (int i = 0; i < a.length; i++) {
      sum[i] = new Evaluation.Counts(a[i].tp() + b[i].tp(), a[i].fp() + b[i].fp(), a[i].fn() + b[i].fn(),
          a[i].iouSum() + b[i].iouSum());
    }
    return sum;
  }

  /** A trained and exported model's held-out figures, and its counts at every score threshold. */
  record Trained(JsonObject validation, Evaluation.Counts[] byScore) {
  }

  /** Trains one model on the fold's training images and exports it to {@code target}; null if it diverged. */
  private Trained trainOne(Fold fold, int heldOut, int foldCount, Path target, long t0) throws Exception {
    List<Sample> train = fold.train();
    List<Sample> val = fold.val();
    System.out.printf(Locale.ROOT, "training on %d images, validating on %d (fold %d of %d), %d steps of %d%n",
        train.size(), val.size(), heldOut, foldCount, steps, batch);
    Random random = new Random(seed);
    Augmenter augmenter = new Augmenter(random, CenterNet.INPUT, train, overlapPaste);
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
          return null;
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
          trainer.checkpoint(target.resolveSibling(target.getFileName() + ".checkpoints").resolve("step-" + step));
        }
      }
      if (emaDecay > 0) {
        trainer.useAverages();
      }
      Validation validated = val.isEmpty() ? null : validate(trainer, val);
      JsonObject validation = validated == null ? new JsonObject() : validated.figures();
      trainer.export(target);
      JsonObject card = new JsonObject().put("name", "circles-centernet").put("version", modelVersion)
          .put("input", new JsonObject().put("size", CenterNet.INPUT).put("layout", "NHWC RGB float32 in [0,1], letterboxed")
              .put("stride", CenterNet.STRIDE))
          .put("scoreThreshold", validation.getDouble("scoreThreshold", 0.3));
      if (selection != null) {
        // the cross-validation's choice and estimate: a model trained on every image has no figures of its own
        JsonObject chosen = new JsonObject(Files.readString(selection)).getJsonObject("chosen");
        card.put("scoreThreshold", chosen.getDouble("scoreThreshold"))
            .put("suppressOverlaps", chosen.getString("suppressOverlaps"))
            .put("refineEdges", chosen.getString("refineEdges", "none"))
            .put("crossValidation", chosen.copy().put("selection", selection.toString()));
      }
      if (!validation.isEmpty()) {
        card.put("validation", validation);
      }
      card
          .put("training", new JsonObject().put("dataset", dataset.path.toString()).put("images", train.size())
              .put("heldOutFold", heldOut < 0 ? null : heldOut).put("folds", foldCount).put("steps", steps).put("batch", batch).put("lr", lr).put("sizeWeight", sizeWeight).put("overlapPaste", overlapPaste)
              .put("emaDecay", emaDecay).put("seed", seed)
              .put("oneDnn", String.valueOf(System.getenv("TF_ENABLE_ONEDNN_OPTS"))).put("seconds", (System.nanoTime() - t0) / 1e9).put("finishedAt", Instant.now().toString()));
      Files.writeString(target.resolve("model.json"), card.encodePrettily());
      System.out.println("exported " + target.toAbsolutePath());
      System.out.println("validation: " + validation.encode());
      return new Trained(validation, validated == null ? null : validated.byScore());
    } finally {
      prefetch.shutdownNow();
    }
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

  /** Held-out figures, and the counts at every score threshold they were chosen from. */
  record Validation(JsonObject figures, Evaluation.Counts[] byScore) {
  }

  /** Figures on the held-out images, at the score threshold that gives them the best F1 at IoU 0.5. */
  static Validation validate(Trainer trainer, List<Sample> val) {
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
    JsonObject out = CrossValidation.figuresAt(predictions, truth, Evaluation.bestThreshold(byScore).score());
    return new Validation(out, byScore);
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
