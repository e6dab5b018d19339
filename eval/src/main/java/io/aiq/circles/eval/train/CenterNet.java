package io.aiq.circles.eval.train;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.tensorflow.Graph;
import org.tensorflow.Operand;
import org.tensorflow.Output;
import org.tensorflow.ndarray.Shape;
import org.tensorflow.ndarray.buffer.DataBuffers;
import org.tensorflow.op.Op;
import org.tensorflow.op.Ops;
import org.tensorflow.op.core.Placeholder;
import org.tensorflow.op.core.Variable;
import org.tensorflow.op.nn.FusedBatchNorm;
import org.tensorflow.types.TFloat32;

/**
 * The coin detector's network: a small CenterNet-style fully convolutional net. A strided encoder
 * (320 → 10 pixels) and a decoder with skip connections back to stride 4 (80 × 80 cells), about
 * 0.36 M parameters and 0.17 G multiply-adds per image, where three 1×1 heads predict a
 * coin-centre heatmap, the box's width and height (in input pixels) and the offset from the cell
 * to the centre.
 *
 * <p>The graph holds two paths over the same variables: the training path (batch statistics, with ops
 * that update the moving averages) and the inference path (moving averages), which is what the
 * exported SavedModel serves.
 */
public final class CenterNet {
  public static final int INPUT = 320;
  public static final int STRIDE = 4;
  public static final int GRID = INPUT / STRIDE;
  /** Sizes are regressed as the log of the size in units of this many input pixels. */
  static final float SIZE_UNIT = 32f;
  static final float BN_MOMENTUM = 0.99f;
  static final int HEAD_WIDTH = 24;

  private final Ops tf;
  private final Random random;
  private final List<Variable<TFloat32>> trainable = new ArrayList<>();
  private final List<Op> statisticUpdates = new ArrayList<>();
  private final List<Layer> layers = new ArrayList<>();
  private final Map<String, Variable<TFloat32>> all = new LinkedHashMap<>();
  private final Map<String, float[]> initial;
  private final boolean frozen;
  private int next;
  private boolean built;

  /** The three outputs of one path. */
  public record Heads(Operand<TFloat32> heatmapLogits, Operand<TFloat32> logSizes, Operand<TFloat32> sizes,
                      Operand<TFloat32> offsets) {
  }

  private record Layer(String name, Operand<TFloat32> weights, Operand<TFloat32> bias, Operand<TFloat32> gamma,
                       Operand<TFloat32> beta, Operand<TFloat32> movingMean, Operand<TFloat32> movingVariance,
                       int stride) {
  }

  public CenterNet(Graph graph, long seed) {
    this(graph, seed, Map.of());
  }

  /**
   * @param initial values for variables by name (see {@link #variables()}); the others start random.
   *     The exporter builds the served graph this way from the trained values, without the optimiser's state.
   */
  public CenterNet(Graph graph, long seed, Map<String, float[]> initial) {
    this(graph, seed, initial, false);
  }

  private CenterNet(Graph graph, long seed, Map<String, float[]> initial, boolean frozen) {
    this.tf = Ops.create(graph);
    this.random = new Random(seed);
    this.initial = initial;
    this.frozen = frozen;
  }

  /**
   * The network with these trained values as constants: what is exported. Constants let
   * TensorFlow's graph optimiser fold each batch norm into its convolution, and oneDNN's kernels
   * run a batch of one image as fast as larger ones (with variables they took 15 times longer).
   */
  public static CenterNet frozen(Graph graph, Map<String, float[]> values) {
    return new CenterNet(graph, 0, values, true);
  }

  /** Every variable of the network by name, trainable or not (the batch-norm moving averages). */
  public Map<String, Variable<TFloat32>> variables() {
    return Collections.unmodifiableMap(all);
  }

  public Ops ops() {
    return tf;
  }

  public List<Variable<TFloat32>> trainableVariables() {
    return trainable;
  }

  /** Ops that fold the last training batch's statistics into the moving averages. */
  public List<Op> statisticUpdates() {
    return statisticUpdates;
  }

  public Placeholder<TFloat32> imagesPlaceholder(String name) {
    return tf.withName(name).placeholder(TFloat32.class, Placeholder.shape(Shape.of(-1, INPUT, INPUT, 3)));
  }

  /** @param images RGB in [0, 1], {@code [n, 320, 320, 3]} */
  public Heads forward(Operand<TFloat32> images, boolean training) {
    next = 0;
    Operand<TFloat32> x = tf.math.div(tf.math.sub(images, tf.constant(0.5f)), tf.constant(0.25f));
    x = conv(x, "c1", 3, 16, 3, 2, training);
    Operand<TFloat32> s80 = conv(x, "c2", 16, 24, 3, 2, training);
    x = conv(s80, "c3", 24, 40, 3, 2, training);
    Operand<TFloat32> s40 = conv(x, "c4", 40, 40, 3, 1, training);
    x = conv(s40, "c5", 40, 80, 3, 2, training);
    Operand<TFloat32> s20 = conv(x, "c6", 80, 80, 3, 1, training);
    x = conv(s20, "c7", 80, 112, 3, 2, training);
    x = conv(x, "c8", 112, 112, 3, 1, training);
    // the decoder fuses each skip with a 1×1 conv and spends its 3×3 convs at low resolution: at
    // 80 × 80 cells every 3×3 channel costs most, and on two cores the whole net must run in ~5 ms
    x = conv(concat(upsample(x, 20), s20), "d20a", 192, 48, 1, 1, training);
    x = conv(x, "d20b", 48, 48, 3, 1, training);
    x = conv(concat(upsample(x, 40), s40), "d40a", 88, 32, 1, 1, training);
    x = conv(x, "d40b", 32, 32, 3, 1, training);
    x = conv(concat(upsample(x, 80), s80), "d80", 56, HEAD_WIDTH, 1, 1, training);
    // the heatmap's bias starts at log(0.1/0.9): every cell says "1 in 10 a centre", as CenterNet does
    Operand<TFloat32> heat = head(x, "heat", 1, -2.19f);
    // sizes are regressed as log(size / SIZE_UNIT): the error then counts relative to the coin, as
    // IoU does; the clip keeps exp() finite while the head is still untrained
    Operand<TFloat32> logSize = tf.clipByValue(head(x, "size", 2, 0f), tf.constant(-4f), tf.constant(4f));
    Operand<TFloat32> size = tf.math.mul(tf.math.exp(logSize), tf.constant(SIZE_UNIT));
    Operand<TFloat32> offset = head(x, "offset", 2, 0.5f);
    built = true;
    return new Heads(heat, logSize, size, offset);
  }

  /** The served outputs: the heatmap's local maxima (others zeroed), the sizes and offsets. */
  public Operand<TFloat32> peaks(Operand<TFloat32> heatmapLogits) {
    Operand<TFloat32> heat = tf.math.sigmoid(heatmapLogits);
    Operand<TFloat32> pooled = tf.nn.maxPool(heat, tf.constant(new int[] {1, 3, 3, 1}), tf.constant(new int[] {1, 1, 1, 1}),
        "SAME");
    return tf.math.mul(heat, tf.dtypes.cast(tf.math.equal(pooled, heat), TFloat32.class));
  }

  private Operand<TFloat32> upsample(Operand<TFloat32> x, int size) {
    return tf.image.resizeBilinear(x, tf.constant(new int[] {size, size}));
  }

  private Operand<TFloat32> concat(Operand<TFloat32> a, Operand<TFloat32> b) {
    return tf.concat(List.of(a, b), tf.constant(3));
  }

  private Layer layer(String name, int in, int out, int k, int stride, boolean norm, float biasInit) {
    if (built) {
      return layers.get(next++);
    }
    float std = (float) Math.sqrt(2.0 / (k * k * in));
    float[] w = new float[k * k * in * out];
    for (int i = 0; i < w.length; i++) {
      w[i] = (float) (random.nextGaussian() * std);
    }
    Operand<TFloat32> weights = variable(name + "_w", Shape.of(k, k, in, out), w);
    Layer layer;
    if (norm) {
      layer = new Layer(name, weights, null, variable(name + "_gamma", Shape.of(out), fill(out, 1f)),
          variable(name + "_beta", Shape.of(out), fill(out, 0f)), variable(name + "_mean", Shape.of(out), fill(out, 0f)),
          variable(name + "_variance", Shape.of(out), fill(out, 1f)), stride);
      train(layer.gamma());
      train(layer.beta());
    } else {
      layer = new Layer(name, weights, variable(name + "_b", Shape.of(out), fill(out, biasInit)), null, null, null, null,
          stride);
      train(layer.bias());
    }
    train(weights);
    layers.add(layer);
    next++;
    return layer;
  }

  private Operand<TFloat32> conv(Operand<TFloat32> x, String name, int in, int out, int k, int stride, boolean training) {
    Layer l = layer(name, in, out, k, stride, true, 0f);
    Operand<TFloat32> y = tf.nn.conv2d(x, l.weights(), List.of(1L, (long) stride, (long) stride, 1L), "SAME");
    FusedBatchNorm<TFloat32, TFloat32> bn = tf.nn.fusedBatchNorm(y, l.gamma(), l.beta(),
        training ? tf.constant(new float[0]) : l.movingMean(), training ? tf.constant(new float[0]) : l.movingVariance(),
        FusedBatchNorm.isTraining(training), FusedBatchNorm.epsilon(1e-3f));
    if (training) {
      statisticUpdates.add(tf.assign((Variable<TFloat32>) l.movingMean(), blend(l.movingMean(), bn.batchMean())));
      statisticUpdates.add(tf.assign((Variable<TFloat32>) l.movingVariance(), blend(l.movingVariance(),
          bn.batchVariance())));
    }
    return tf.nn.relu(bn.y());
  }

  private Operand<TFloat32> blend(Operand<TFloat32> moving, Output<TFloat32> batch) {
    return tf.math.add(tf.math.mul(moving, tf.constant(BN_MOMENTUM)),
        tf.math.mul(tf.stopGradient(batch), tf.constant(1f - BN_MOMENTUM)));
  }

  private Operand<TFloat32> head(Operand<TFloat32> x, String name, int out, float biasInit) {
    Layer l = layer(name, HEAD_WIDTH, out, 1, 1, false, biasInit);
    return tf.nn.biasAdd(tf.nn.conv2d(x, l.weights(), List.of(1L, 1L, 1L, 1L), "SAME"), l.bias());
  }

  /** A variable, or in a frozen network a constant, holding the initial (or given) values. */
  private Operand<TFloat32> variable(String name, Shape shape, float[] init) {
    float[] values = initial.getOrDefault(name, init);
    if (values.length != shape.size()) {
      throw new IllegalArgumentException(name + " has " + values.length + " values, the network expects " + shape);
    }
    if (frozen) {
      return tf.withName(name).constant(shape, DataBuffers.of(values));
    }
    Variable<TFloat32> v = tf.withName(name).variable(tf.constant(shape, DataBuffers.of(values)));
    all.put(name, v);
    return v;
  }

  private void train(Operand<TFloat32> parameter) {
    if (!frozen) {
      trainable.add((Variable<TFloat32>) parameter);
    }
  }

  private static float[] fill(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

}
