package io.aiq.circles.eval;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.ConfigLoader;
import io.aiq.circles.inference.Detectors;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/** {@code just eval}: how good is a detector on a COCO dataset, in-process or through the running API. */
@Command(name = "aiq-eval", mixinStandardHelpOptions = true, sortOptions = false, usageHelpWidth = 100,
    description = "Evaluates a circle detector on a COCO dataset: the template's metrics (Hungarian matching, "
        + "precision/recall/F1 at IoU 0.3/0.5/0.7/0.9, Jaccard index of box-union masks), COCO AP50:95 and AP50, "
        + "the best score threshold, and an HTML report with plots and the worst images first.")
public final class EvalCommand implements Callable<Integer> {

  enum Mode { local, api, file }

  @Mixin
  CliOptions.Dataset dataset;

  @Option(names = "--category", description = "category id to evaluate; repeatable (default: every non-super category)")
  List<Integer> categories;

  @Option(names = "--mode", description = "local: the detector in this process; api: through POST /images; "
      + "file: the predictions of --predictions (default: ${DEFAULT-VALUE})",
      defaultValue = "local")
  Mode mode;

  @Option(names = "--url", description = "API base URL for --mode api (default: ${DEFAULT-VALUE})",
      defaultValue = "http://127.0.0.1:8080")
  URI url;

  @Option(names = "--predictions", description = "--mode file: a predictions.json ([{file_name, bbox, score}])")
  Path predictionsFile;

  @Option(names = "--detector", description = "detector for --mode local, as the 'detector' setting (default: the configuration's)")
  String detector;

  @Option(names = "--model", description = "--mode local with --detector tensorflow: the SavedModel folder (default: the configuration's)")
  Path model;

  @Option(names = "--reprocess", description = "--mode api: ask for a new inference of images uploaded before")
  boolean reprocess;

  @Option(names = "--concurrency", description = "images in flight at once (default: ${DEFAULT-VALUE})", defaultValue = "4")
  int concurrency;

  @Option(names = "--score-threshold", description = "ignore predictions scored below this (default: ${DEFAULT-VALUE})",
      defaultValue = "0.0")
  double scoreThreshold;

  @Option(names = "--timeout", description = "--mode api: seconds to wait for one image's job (default: ${DEFAULT-VALUE})",
      defaultValue = "120")
  int timeoutSeconds;

  @Option(names = "--fold", description = "score only the images of this fold (index %% folds == fold): the images "
      + "`just train` held out, for an honest figure of the shipped model (default: all images)")
  Integer fold;

  @Mixin
  CliOptions.Folds folds;

  @Option(names = "--out", description = "output folder (default: ${DEFAULT-VALUE})", defaultValue = "eval/target/report")
  Path out;

  @Option(names = "--no-images", description = "skip the annotated images")
  boolean noImages;

  @Option(names = "--no-progress", description = "no progress bar")
  boolean noProgress;

  @Option(names = "--compare", arity = "2", paramLabel = "REPORT",
      description = "print two report.json side by side, and evaluate nothing")
  List<Path> compare;

  @Option(names = "--compare-cv", arity = "1..*", paramLabel = "CV_JSON",
      description = "print cross-validations (just train --cv writes cv.json): one as its folds side by side with "
          + "their mean and sd, several as their means side by side; evaluate nothing")
  List<Path> compareCv;

  @Option(names = "--select-cv", paramLabel = "CV_DIR",
      description = "choose the served post-processing from a cross-validation's fold models (just train --cv K --out "
          + "CV_DIR): each fold model scores its held-out images as served, at the threshold best on the other folds; "
          + "prints every --suppress and --refine setting's mean ± sd, writes CV_DIR/selection.json for just train --all --selection")
  Path selectCv;

  @Option(names = "--suppress", split = ",", paramLabel = "SETTING",
      description = "--select-cv: overlap suppression settings to try: none, iou:L, smaller:L (default: none, iou:0.3, "
          + "iou:0.5, iou:0.7, smaller:0.6, smaller:0.8)")
  List<String> suppress;

  @Option(names = "--refine", split = ",", paramLabel = "SETTING",
      description = "--select-cv: edge refinements to try, with the chosen suppression: none, edges:B or edges:B:G "
          + "(outline band B and growth G as fractions of the radius; default: none and ten bands and growths)")
  List<String> refine;

  @Option(names = "--threads", defaultValue = "0", description = "--select-cv: TensorFlow threads, 0 = all cores (default: ${DEFAULT-VALUE})")
  int threads;

  public static void main(String[] args) {
    System.exit(new CommandLine(new EvalCommand()).execute(args));
  }

  @Override
  public Integer call() throws Exception {
    if (compareCv != null) {
      List<JsonObject> runs = new java.util.ArrayList<>();
      for (Path p : compareCv) {
        runs.add(new JsonObject(Files.readString(p)));
      }
      System.out.print(io.aiq.circles.eval.train.CrossValidation.sideBySide(
          compareCv.stream().map(Path::toString).toList(), runs));
      return 0;
    }
    if (compare != null) {
      JsonObject a = new JsonObject(Files.readString(compare.get(0)));
      JsonObject b = new JsonObject(Files.readString(compare.get(1)));
      System.out.print(Summary.compare(compare.get(0).toString(), a, compare.get(1).toString(), b));
      return 0;
    }
    if (selectCv != null) {
      io.aiq.circles.eval.train.CvSelection.run(selectCv, CocoDataset.load(dataset.path, java.util.Set.of()),
          suppress == null ? io.aiq.circles.eval.train.CvSelection.DEFAULT_SETTINGS : suppress,
          refine == null ? io.aiq.circles.eval.train.CvSelection.DEFAULT_REFINEMENTS : refine, threads);
      return 0;
    }
    long t0 = System.nanoTime();
    CocoDataset data = CocoDataset.load(dataset.path, categories == null ? java.util.Set.of() : new HashSet<>(categories));
    if (fold != null) {
      data = data.fold(fold, folds.count);
    }
    Report report;
    List<ImagePredictions> results;
    try (Predictor predictor = predictor()) {
      results = EvalRunner.run(data, predictor, concurrency, !noProgress);
      JsonObject run = new JsonObject().put("mode", mode.name()).put("model", predictor.model())
          .put("dataset", new JsonObject().put("path", dataset.path.toString()));
      if (fold != null) {
        run.getJsonObject("dataset").put("fold", fold).put("folds", folds.count);
      }
      if (mode == Mode.api) {
        run.put("url", url.toString());
      }
      report = Report.of(data, results, scoreThreshold, run);
    }
    report.json().put("timings", new JsonObject().put("totalSeconds", (System.nanoTime() - t0) / 1e9));
    ReportWriter.write(out, data, results, report, !noImages);
    System.out.print(Summary.of(report.json()));
    System.out.println("report: " + out.resolve("index.html").toAbsolutePath());
    return 0;
  }

  private Predictor predictor() throws Exception {
    if (mode == Mode.api) {
      return new ApiPredictor(url, reprocess, Duration.ofSeconds(timeoutSeconds));
    }
    if (mode == Mode.file) {
      if (predictionsFile == null) {
        throw new CommandLine.ParameterException(new CommandLine(this), "--mode file needs --predictions FILE");
      }
      return new FilePredictor(predictionsFile);
    }
    Vertx vertx = Vertx.vertx();
    try {
      JsonObject overrides = detector == null ? new JsonObject() : new JsonObject().put("detector", detector);
      if (model != null) {
        overrides.put("model", new JsonObject().put("path", model.toString()));
      }
      AppConfig config = ConfigLoader.load(vertx, overrides).await(30, TimeUnit.SECONDS);
      return new LocalPredictor(Detectors.create(config));
    } finally {
      vertx.close();
    }
  }
}
