package io.aiq.circles.inference.tf;

import io.aiq.circles.contracts.BoundingBox;
import io.aiq.circles.contracts.Detection;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.images.ImageDecoder;
import io.vertx.core.json.JsonObject;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.SessionFunction;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Serves the project's SavedModel (or any that follows its signature): input {@code images}, a
 * batch of letterboxed RGB floats {@code [n, size, size, 3]} in [0, 1]; outputs {@code peaks} (the
 * centre heatmap with non-maxima zeroed, {@code [n, size/stride, size/stride, 1]}), {@code sizes}
 * (box width and height in input pixels) and {@code offsets} (the centre within its cell), both
 * {@code [n, size/stride, size/stride, 2]}. {@code model.json} beside it names the model and its
 * input size, stride, score threshold, overlap suppression ({@link OverlapSuppression}) and edge
 * refinement ({@link EdgeRefinement}). Every tensor and result is closed after each batch, so
 * native memory stays flat.
 */
public final class TfDetector implements Detector {
  private static final Logger LOG = LoggerFactory.getLogger(TfDetector.class);
  static final int MAX_DETECTIONS = 100;
  /** TensorFlow's {@code inter_op_parallelism_threads} value for "every op on the caller's thread". */
  static final int RUN_IN_CALLER_THREAD = -1;
  /** The largest batch whose input array a thread keeps for its next call (19 MB at 320 px). */
  static final int KEPT_INPUT_IMAGES = 16;

  private final SavedModelBundle bundle;
  private final SessionFunction function;
  private final TfJpegDecoder jpegs;
  private final String name;
  private final String version;
  private final int size;
  private final int stride;
  private final double threshold;
  private final OverlapSuppression suppression;
  private final EdgeRefinement refinement;
  private final ThreadLocal<float[]> inputs = new ThreadLocal<>();

  /**
   * @param threads TensorFlow's intra-op threads, 0 for its default (all cores)
   * @param scoreThreshold detections scored below are dropped; null for the model's own
   */
  public TfDetector(Path modelDir, int threads, Double scoreThreshold) throws IOException {
    this(modelDir, threads, scoreThreshold, null);
  }

  /**
   * @param suppression overlapping boxes to drop; null for the model's own ({@code suppressOverlaps}
   *     in model.json, none if it says nothing)
   */
  public TfDetector(Path modelDir, int threads, Double scoreThreshold, OverlapSuppression suppression) throws IOException {
    this(modelDir, threads, scoreThreshold, suppression, null);
  }

  /**
   * @param refinement how boxes are fitted to the objects' outlines; null for the model's own
   *     ({@code refineEdges} in model.json, none if it says nothing)
   */
  public TfDetector(Path modelDir, int threads, Double scoreThreshold, OverlapSuppression suppression,
                    EdgeRefinement refinement) throws IOException {
    Path card = modelDir.resolve("model.json");
    if (!Files.isRegularFile(card)) {
      throw new IOException("no model at " + modelDir.toAbsolutePath() + " (a SavedModel folder with model.json is expected;"
          + " `just train` makes one)");
    }
    JsonObject meta = new JsonObject(Files.readString(card));
    this.name = meta.getString("name", modelDir.getFileName().toString());
    this.version = meta.getString("version", "unknown");
    this.size = meta.getJsonObject("input", new JsonObject()).getInteger("size", 320);
    this.stride = meta.getJsonObject("input", new JsonObject()).getInteger("stride", 4);
    this.threshold = scoreThreshold != null ? scoreThreshold : meta.getDouble("scoreThreshold", 0.3);
    try {
      this.suppression = suppression != null ? suppression : OverlapSuppression.parse(meta.getString("suppressOverlaps", "none"));
    } catch (IllegalArgumentException e) {
      throw new IOException(card + ": suppressOverlaps: " + e.getMessage(), e);
    }
    try {
      this.refinement = refinement != null ? refinement : EdgeRefinement.parse(meta.getString("refineEdges", "none"));
    } catch (IllegalArgumentException | ClassCastException e) {
      throw new IOException(card + ": refineEdges: " + e.getMessage(), e);
    }
    // Ops run on the calling thread (a negative inter-op count): with a positive one every session
    // in the process queues its ops on one global inter-op pool, so the inference role's worker
    // threads (and the bare model's callers) took turns on a single thread while a core idled;
    // 2 callers on 2 cores went from 1.1x to 1.8x one caller's images/s (docs/benchmarks.md).
    ConfigProto.Builder config = ConfigProto.newBuilder().setInterOpParallelismThreads(RUN_IN_CALLER_THREAD);
    if (threads > 0) {
      config.setIntraOpParallelismThreads(threads);
    }
    long t0 = System.nanoTime();
    this.bundle = SavedModelBundle.loader(modelDir.toString()).withTags(SavedModelBundle.DEFAULT_TAG)
        .withConfigProto(config.build()).load();
    this.function = bundle.function(Signature.DEFAULT_KEY);
    this.jpegs = new TfJpegDecoder();
    String oneDnn = System.getenv("TF_ENABLE_ONEDNN_OPTS");
    LOG.info("loaded model {} version {} from {} in {} ms (score threshold {}, overlaps suppressed: {}, edges refined: {}); "
        + "TF_ENABLE_ONEDNN_OPTS={}{}", name, version, modelDir, (System.nanoTime() - t0) / 1_000_000, threshold,
        this.suppression, this.refinement, oneDnn,
        "1".equals(oneDnn) ? "" : " (set it to 1 for about 1.5x faster inference on x86 CPUs; see docs/benchmarks.md)");
  }

  @Override
  public String modelName() {
    return name;
  }

  @Override
  public String modelVersion() {
    return version;
  }

  @Override
  public boolean ready() {
    return true;
  }

  public double scoreThreshold() {
    return threshold;
  }

  public OverlapSuppression overlapSuppression() {
    return suppression;
  }

  public EdgeRefinement edgeRefinement() {
    return refinement;
  }

  /** JPEGs through TensorFlow's decoder (twice as fast as ImageIO); other formats, and JPEGs it refuses, through ImageIO. */
  @Override
  public BufferedImage decode(byte[] bytes) {
    if (TfJpegDecoder.isJpeg(bytes)) {
      try {
        return jpegs.decode(bytes);
      } catch (RuntimeException e) {
        // TensorFlow reports a bad JPEG as TFInvalidArgumentException (an IllegalArgumentException),
        // other failures as TensorFlowException: either way ImageIO gets its turn
        LOG.debug("TensorFlow could not decode a JPEG ({}); trying ImageIO", e.getMessage());
      }
    }
    return ImageDecoder.decode(bytes);
  }

  @Override
  public List<List<Detection>> detect(List<BufferedImage> images) {
    int n = images.size();
    int px = size * size * 3;
    int grid = size / stride;
    float[] input = inputBuffer(n * px);
    List<Letterbox> boxes = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      BufferedImage img = images.get(i);
      Letterbox lb = Letterbox.of(img.getWidth(), img.getHeight(), size);
      lb.fill(img, input, i * px);
      boxes.add(lb);
    }
    float[] peaks = new float[n * grid * grid];
    float[] sizes = new float[n * grid * grid * 2];
    float[] offsets = new float[n * grid * grid * 2];
    try (TFloat32 tensor = TFloat32.tensorOf(Shape.of(n, size, size, 3), DataBuffers.of(input, true, false).narrow(n * px));
         Result result = function.call(Map.of("images", tensor))) {
      read(result, "peaks", peaks);
      read(result, "sizes", sizes);
      read(result, "offsets", offsets);
    }
    List<List<Detection>> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Letterbox lb = boxes.get(i);
      List<Detection> found = new ArrayList<>();
      EdgeRefinement.Luminance luminance = null;
      for (CenterDecoder.Candidate c : CenterDecoder.decode(peaks, i * grid * grid, sizes, offsets, i * grid * grid * 2,
          grid, stride, threshold, suppression, MAX_DETECTIONS)) {
        BoundingBox b = lb.toSource(c.x0(), c.y0(), c.x1(), c.y1());
        if (refinement.enabled()) {
          luminance = luminance != null ? luminance : EdgeRefinement.Luminance.of(images.get(i));
          b = refinement.refine(luminance, b, lb.sourceWidth(), lb.sourceHeight());
        }
        if (b.width() >= 1 && b.height() >= 1) {
          found.add(new Detection(b, Math.min(1.0, Math.max(0.0, c.score()))));
        }
      }
      out.add(found);
    }
    return out;
  }

  /**
   * This thread's input array, grown to at least {@code floats}: a batch's input is megabytes (1.2 MB
   * an image at 320 px), and allocated anew for each batch it was a humongous object for G1 at the
   * service's heap sizes (regions of 1 MB at -Xmx512m), whose concurrent cycles took up to 1 ms of CPU
   * per drained job. Every call overwrites the part it uses, padding included ({@link Letterbox#fill}).
   * A batch larger than {@link #KEPT_INPUT_IMAGES} images gets an array of its own, not kept.
   */
  private float[] inputBuffer(int floats) {
    float[] buffer = inputs.get();
    if (buffer != null && buffer.length >= floats) {
      return buffer;
    }
    buffer = new float[floats];
    if (floats <= KEPT_INPUT_IMAGES * size * size * 3) {
      inputs.set(buffer);
    }
    return buffer;
  }

  private static void read(Result result, String output, float[] into) {
    TFloat32 t = (TFloat32) result.get(output).orElseThrow(() -> new IllegalStateException("the model has no output " + output));
    t.asRawTensor().data().asFloats().read(into);
  }

  @Override
  public void close() {
    jpegs.close();
    bundle.close();
  }
}
