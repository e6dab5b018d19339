package io.aiq.circles.eval.train;

import io.aiq.circles.inference.tf.CenterDecoder;
import io.aiq.circles.inference.tf.OverlapSuppression;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.Result;
import org.tensorflow.SavedModelBundle;
import org.tensorflow.Session;
import org.tensorflow.Signature;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.proto.ConfigProto;
import org.tensorflow.types.TFloat32;

/**
 * Trains {@link CenterNet} with Adam on augmented views, and exports the inference path as a
 * SavedModel. Gradients are taken for the trainable variables only (batch-norm moving averages are
 * updated by their own ops), and Adam is the raw {@code ApplyAdam} op with the learning rate fed each
 * step, so the schedule (linear warm-up, then cosine decay) lives here.
 */
public final class Trainer implements AutoCloseable {
  public static final String SIGNATURE_INPUT = "images";
  public static final String OUTPUT_PEAKS = "peaks";
  public static final String OUTPUT_SIZES = "sizes";
  public static final String OUTPUT_OFFSETS = "offsets";

  private static final int G = CenterNet.GRID;

  private final Graph graph = new Graph();
  private final Session session;
  private final CenterNet net;
  private final Ops tf;
  private final Placeholder<TFloat32> images;
  private final Placeholder<TFloat32> heat;
  private final Placeholder<TFloat32> negWeight;
  private final Placeholder<TFloat32> posMask;
  private final Placeholder<TFloat32> logSizes;
  private final Placeholder<TFloat32> offsets;
  private final Placeholder<TFloat32> regWeight;
  private final Placeholder<TFloat32> learningRate;
  private final Placeholder<TFloat32> beta1Power;
  private final Placeholder<TFloat32> beta2Power;
  private final Operand<TFloat32> loss;
  private final List<Op> trainOps = new ArrayList<>();
  private final Placeholder<TFloat32> averageRate;
  private final List<Op> averageUpdates = new ArrayList<>();
  private final List<Op> averagesIn = new ArrayList<>();
  private final Placeholder<TFloat32> serveImages;
  private final Operand<TFloat32> servePeaks;
  private final Operand<TFloat32> serveSizes;
  private final Operand<TFloat32> serveOffsets;
  private int step;

  /** The weight of the log-size error against the heatmap's, as {@code just train} uses by default. */
  public static final float SIZE_WEIGHT = 5f;

  public Trainer(long seed, int threads) {
    this(seed, threads, SIZE_WEIGHT);
  }

  /**
   * @param sizeWeight the weight of the size error (L1 of log sizes) against the heatmap's focal
   *     loss: larger weighs box tightness more
   */
  public Trainer(long seed, int threads, float sizeWeight) {
    net = new CenterNet(graph, seed);
    tf = net.ops();
    images = net.imagesPlaceholder("train_images");
    CenterNet.Heads out = net.forward(images, true);
    Shape one = Shape.of(-1, G, G, 1);
    Shape two = Shape.of(-1, G, G, 2);
    heat = placeholder("heat_target", one);
    negWeight = placeholder("neg_weight", one);
    posMask = placeholder("pos_mask", one);
    logSizes = placeholder("log_size_target", two);
    offsets = placeholder("offset_target", two);
    regWeight = placeholder("reg_weight", one);
    learningRate = tf.withName("learning_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    beta1Power = tf.withName("beta1_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    beta2Power = tf.withName("beta2_power").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    loss = tf.withName("loss").identity(loss(out, sizeWeight));

    List<Variable<TFloat32>> vars = net.trainableVariables();
    Output<?>[] xs = vars.stream().map(Variable::asOutput).toArray(Output<?>[]::new);
    Output<?>[] grads = graph.addGradients("gradients", new Output<?>[] {loss.asOutput()}, xs, null);
    for (int i = 0; i < vars.size(); i++) {
      Variable<TFloat32> v = vars.get(i);
      Variable<TFloat32> m = tf.variable(tf.zerosLike(v));
      Variable<TFloat32> s = tf.variable(tf.zerosLike(v));
      @SuppressWarnings("unchecked")
      Operand<TFloat32> g = (Operand<TFloat32>) grads[i];
      trainOps.add(tf.train.applyAdam(v, m, s, beta1Power, beta2Power, learningRate, tf.constant(0.9f),
          tf.constant(0.999f), tf.constant(1e-7f), g));
    }
    trainOps.addAll(net.statisticUpdates());

    // An exponential moving average of every weight (and batch-norm statistic), exported instead of
    // the last step's weights: the final weights of a run depend on where its last few hundred
    // noisy steps happened to leave them, and box sizes (IoU 0.9) are what that noise moves most.
    averageRate = tf.withName("average_rate").placeholder(TFloat32.class, Placeholder.shape(Shape.scalar()));
    for (Variable<TFloat32> v : net.variables().values()) {
      Variable<TFloat32> average = tf.variable(tf.zerosLike(v));
      averageUpdates.add(tf.assignSub(average, tf.math.mul(tf.math.sub(average, v), averageRate)));
      averagesIn.add(tf.assign(v, average));
    }

    serveImages = net.imagesPlaceholder(SIGNATURE_INPUT);
    CenterNet.Heads served = net.forward(serveImages, false);
    servePeaks = tf.withName(OUTPUT_PEAKS).identity(net.peaks(served.heatmapLogits()));
    serveSizes = tf.withName(OUTPUT_SIZES).identity(served.sizes());
    serveOffsets = tf.withName(OUTPUT_OFFSETS).identity(served.offsets());

    ConfigProto config = ConfigProto.newBuilder().setIntraOpParallelismThreads(threads)
        .setInterOpParallelismThreads(1).build();
    session = new Session(graph, config);
    session.initialize();
  }

  private Placeholder<TFloat32> placeholder(String name, Shape shape) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(shape));
  }

  /**
   * Focal loss on the heatmap (CenterNet's), plus L1 on log size and on offset, weighted over the
   * cells near each centre (see {@link Targets}); each part is averaged over the coins.
   */
  private Operand<TFloat32> loss(CenterNet.Heads out, float sizeWeight) {
    Operand<TFloat32> one = tf.constant(1f);
    Operand<TFloat32> p = tf.clipByValue(tf.math.sigmoid(out.heatmapLogits()), tf.constant(1e-4f), tf.constant(1f - 1e-4f));
    Operand<TFloat32> q = tf.math.sub(one, p);
    Operand<TFloat32> pos = tf.math.mul(tf.math.mul(posMask, tf.math.mul(q, q)), tf.math.log(p));
    Operand<TFloat32> neg = tf.math.mul(tf.math.mul(tf.math.mul(negWeight, tf.math.sub(one, posMask)), tf.math.mul(p, p)),
        tf.math.log(q));
    Operand<TFloat32> numPos = tf.math.maximum(sum(posMask), one);
    Operand<TFloat32> focal = tf.math.neg(tf.math.div(tf.math.add(sum(pos), sum(neg)), numPos));
    Operand<TFloat32> sizeL1 = tf.math.div(sum(tf.math.mul(tf.math.abs(tf.math.sub(out.logSizes(), logSizes)), regWeight)),
        tf.math.div(numPos, tf.constant(sizeWeight)));
    Operand<TFloat32> offL1 = tf.math.div(sum(tf.math.mul(tf.math.abs(tf.math.sub(out.offsets(), offsets)), regWeight)), numPos);
    return tf.math.add(focal, tf.math.add(sizeL1, offL1));
  }

  private Operand<TFloat32> sum(Operand<TFloat32> x) {
    return tf.sum(x, tf.constant(new int[] {0, 1, 2, 3}));
  }

  /** One Adam step on a batch of views; returns the loss before the step. */
  public float step(List<Augmenter.View> batch, float lr) {
    int n = batch.size();
    int cells = G * G;
    float[] img = new float[n * CenterNet.INPUT * CenterNet.INPUT * 3];
    float[] h = new float[n * cells];
    float[] nw = new float[n * cells];
    float[] pm = new float[n * cells];
    float[] sz = new float[n * cells * 2];
    float[] of = new float[n * cells * 2];
    float[] rm = new float[n * cells];
    for (int i = 0; i < n; i++) {
      Augmenter.View v = batch.get(i);
      System.arraycopy(v.pixels(), 0, img, i * v.pixels().length, v.pixels().length);
      Targets.write(v.coins(), G, CenterNet.STRIDE, CenterNet.SIZE_UNIT, i, h, nw, pm, sz, of, rm);
    }
    step++;
    try (TFloat32 ti = tensor(img, n, CenterNet.INPUT, CenterNet.INPUT, 3); TFloat32 th = tensor(h, n, G, G, 1);
         TFloat32 tn = tensor(nw, n, G, G, 1); TFloat32 tp = tensor(pm, n, G, G, 1); TFloat32 ts = tensor(sz, n, G, G, 2);
         TFloat32 to = tensor(of, n, G, G, 2); TFloat32 tr = tensor(rm, n, G, G, 1);
         TFloat32 tl = TFloat32.scalarOf(lr); TFloat32 b1 = TFloat32.scalarOf((float) Math.pow(0.9, step));
         TFloat32 b2 = TFloat32.scalarOf((float) Math.pow(0.999, step))) {
      Session.Runner runner = session.runner().feed(images, ti).feed(heat, th).feed(negWeight, tn).feed(posMask, tp)
          .feed(logSizes, ts).feed(offsets, to).feed(regWeight, tr).feed(learningRate, tl).feed(beta1Power, b1)
          .feed(beta2Power, b2).fetch(loss);
      trainOps.forEach(runner::addTarget);
      try (Result r = runner.run()) {
        return ((TFloat32) r.get(0)).getFloat();
      }
    }
  }

  /**
   * Moves the averages towards the current weights after step {@code step}: by {@code 1 - decay},
   * with a smaller decay early on ({@code (1 + step) / (10 + step)}) so the zero start is soon
   * forgotten.
   */
  public void updateAverages(int step, float decay) {
    float d = Math.min(decay, (1f + step) / (10f + step));
    try (TFloat32 rate = TFloat32.scalarOf(1f - d)) {
      Session.Runner runner = session.runner().feed(averageRate, rate);
      averageUpdates.forEach(runner::addTarget);
      runner.run().close();
    }
  }

  /** Replaces the weights with their averages, for validation and export; training is over after this. */
  public void useAverages() {
    Session.Runner runner = session.runner();
    averagesIn.forEach(runner::addTarget);
    runner.run().close();
  }

  /** Runs the inference path, as the SavedModel will, and decodes each image's boxes (input pixels). */
  public List<List<CenterDecoder.Candidate>> predict(List<float[]> inputs, double threshold) {
    int n = inputs.size();
    int px = CenterNet.INPUT * CenterNet.INPUT * 3;
    float[] img = new float[n * px];
    for (int i = 0; i < n; i++) {
      System.arraycopy(inputs.get(i), 0, img, i * px, px);
    }
    try (TFloat32 ti = tensor(img, n, CenterNet.INPUT, CenterNet.INPUT, 3);
         Result r = session.runner().feed(serveImages, ti).fetch(servePeaks).fetch(serveSizes).fetch(serveOffsets).run()) {
      float[] peaks = read((TFloat32) r.get(0), n * G * G);
      float[] s = read((TFloat32) r.get(1), n * G * G * 2);
      float[] o = read((TFloat32) r.get(2), n * G * G * 2);
      List<List<CenterDecoder.Candidate>> out = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        out.add(CenterDecoder.decode(peaks, i * G * G, s, o, i * G * G * 2, G, CenterNet.STRIDE, threshold,
            OverlapSuppression.NONE, 100));
      }
      return out;
    }
  }

  /**
   * Writes the SavedModel: signature {@code serving_default}, input {@code images}, three outputs.
   * The served graph is built anew with the trained values as constants, so it holds the inference
   * path and its weights only: no training ops, no optimiser state, and batch norms folded away.
   */
  public void export(Path dir) throws IOException {
    if (Files.exists(dir)) {
      try (var files = Files.walk(dir)) {
        files.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
    Map<String, float[]> trained = new LinkedHashMap<>();
    for (Map.Entry<String, Variable<TFloat32>> v : net.variables().entrySet()) {
      try (Result r = session.runner().fetch(v.getValue()).run()) {
        TFloat32 t = (TFloat32) r.get(0);
        trained.put(v.getKey(), read(t, (int) t.shape().size()));
      }
    }
    exportServed(trained, dir);
  }

  /** Writes the served graph with these values (by variable name) as a SavedModel in {@code dir}. */
  public static void exportServed(Map<String, float[]> trained, Path dir) throws IOException {
    try (Graph served = new Graph()) {
      CenterNet copy = CenterNet.frozen(served, trained);
      Ops ops = copy.ops();
      Placeholder<TFloat32> input = copy.imagesPlaceholder(SIGNATURE_INPUT);
      CenterNet.Heads heads = copy.forward(input, false);
      Signature signature = Signature.builder().key(Signature.DEFAULT_KEY).input(SIGNATURE_INPUT, input)
          .output(OUTPUT_PEAKS, ops.withName(OUTPUT_PEAKS).identity(copy.peaks(heads.heatmapLogits())))
          .output(OUTPUT_SIZES, ops.withName(OUTPUT_SIZES).identity(heads.sizes()))
          .output(OUTPUT_OFFSETS, ops.withName(OUTPUT_OFFSETS).identity(heads.offsets())).build();
      try (Session s = new Session(served)) {
        s.initialize();
        // the session must be given before the signature (TF-Java 1.1)
        SavedModelBundle.exporter(dir.toString()).withSession(s).withSignature(signature).export();
      }
    }
  }

  public void checkpoint(Path prefix) throws IOException {
    Files.createDirectories(prefix.getParent());
    session.save(prefix.toString());
  }

  static TFloat32 tensor(float[] data, long... shape) {
    return TFloat32.tensorOf(Shape.of(shape), DataBuffers.of(data, true, false));
  }

  static float[] read(TFloat32 t, int n) {
    float[] out = new float[n];
    t.asRawTensor().data().asFloats().read(out);
    return out;
  }

  /** A seeded shuffle-without-replacement sampler over the training indices. */
  static final class Sampler {
    private final Random random;
    private final int[] order;
    private int pos;

    Sampler(int n, Random random) {
      this.random = random;
      this.order = new int[n];
      for (int i = 0; i < n; i++) {
        order[i] = i;
      }
      pos = n;
    }

    int next() {
      if (pos == order.length) {
        for (int i = order.length - 1; i > 0; i--) {
          int j = random.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
        pos = 0;
      }
      return order[pos++];
    }
  }

  @Override
  public void close() {
    session.close();
    graph.close();
  }

}
