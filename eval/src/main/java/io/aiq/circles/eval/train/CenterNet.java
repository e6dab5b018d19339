package io.aiq.circles.eval.train;

import java.util.ArrayList;
import java.util.List;
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
 * (320 → 10 pixels, about 0.7 M parameters) and a decoder with skip connections back to stride 4 (80 × 80 cells), where three
 * 1×1 heads predict a coin-centre heatmap, the box's width and height (in input pixels) and the
 * centre's offset within its cell.
 *
 * <p>The graph holds two paths over the same variables: the training path (batch statistics, with ops
 * that update the moving averages) and the inference path (moving averages), which is what the
 * exported SavedModel serves.
 */
public final class CenterNet {
  public static final int INPUT = 320;
  public static final int STRIDE = 4;
  public static final int GRID = INPUT / STRIDE;
  /** Sizes are regressed in units of this many input pixels, to keep the head's outputs near 1. */
  static final float SIZE_UNIT = 32f;
  static final float BN_MOMENTUM = 0.99f;
  static final int HEAD_WIDTH = 24;

  private final Ops tf;
  private final Random random;
  private final List<Variable<TFloat32>> trainable = new ArrayList<>();
  private final List<Op> statisticUpdates = new ArrayList<>();
  private final List<Layer> layers = new ArrayList<>();
  private int next;
  private boolean built;

  /** The three outputs of one path. */
  public record Heads(Operand<TFloat32> heatmapLogits, Operand<TFloat32> sizes, Operand<TFloat32> offsets) {
  }

  private record Layer(String name, Variable<TFloat32> weights, Variable<TFloat32> bias, Variable<TFloat32> gamma,
                       Variable<TFloat32> beta, Variable<TFloat32> movingMean, Variable<TFloat32> movingVariance,
                       int stride) {
  }

  public CenterNet(Graph graph, long seed) {
    this.tf = Ops.create(graph);
    this.random = new Random(seed);
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
    x = conv(x, "c2", 16, 24, 3, 2, training);
    Operand<TFloat32> s80 = conv(x, "c3", 24, 24, 3, 1, training);
    x = conv(s80, "c4", 24, 48, 3, 2, training);
    Operand<TFloat32> s40 = conv(x, "c5", 48, 48, 3, 1, training);
    x = conv(s40, "c6", 48, 96, 3, 2, training);
    x = conv(x, "c7", 96, 96, 3, 1, training);
    Operand<TFloat32> s20 = conv(x, "c8", 96, 96, 3, 1, training);
    x = conv(s20, "c9", 96, 128, 3, 2, training);
    x = conv(x, "c10", 128, 128, 3, 1, training);
    // the decoder is kept narrow at high resolution: at 80 × 80 cells every channel costs most
    x = conv(concat(upsample(x, 20), s20), "c11", 224, 64, 3, 1, training);
    x = conv(concat(upsample(x, 40), s40), "c12", 112, 32, 3, 1, training);
    x = conv(concat(upsample(x, 80), s80), "c13", 56, HEAD_WIDTH, 3, 1, training);
    // the heatmap's bias starts at log(0.1/0.9): every cell says "1 in 10 a centre", as CenterNet does
    Operand<TFloat32> heat = head(x, "heat", 1, -2.19f);
    Operand<TFloat32> size = tf.math.mul(head(x, "size", 2, 1f), tf.constant(SIZE_UNIT));
    Operand<TFloat32> offset = head(x, "offset", 2, 0.5f);
    built = true;
    return new Heads(heat, size, offset);
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
    Variable<TFloat32> weights = variable(name + "_w", Shape.of(k, k, in, out), w);
    Layer layer;
    if (norm) {
      layer = new Layer(name, weights, null, variable(name + "_gamma", Shape.of(out), fill(out, 1f)),
          variable(name + "_beta", Shape.of(out), fill(out, 0f)), variable(name + "_mean", Shape.of(out), fill(out, 0f)),
          variable(name + "_variance", Shape.of(out), fill(out, 1f)), stride);
      trainable.add(layer.gamma());
      trainable.add(layer.beta());
    } else {
      layer = new Layer(name, weights, variable(name + "_b", Shape.of(out), fill(out, biasInit)), null, null, null, null,
          stride);
      trainable.add(layer.bias());
    }
    trainable.add(weights);
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
      statisticUpdates.add(tf.assign(l.movingMean(), blend(l.movingMean(), bn.batchMean())));
      statisticUpdates.add(tf.assign(l.movingVariance(), blend(l.movingVariance(), bn.batchVariance())));
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

  private Variable<TFloat32> variable(String name, Shape shape, float[] init) {
    return tf.withName(name).variable(tf.constant(shape, DataBuffers.of(init)));
  }

  private static float[] fill(int n, float v) {
    float[] a = new float[n];
    java.util.Arrays.fill(a, v);
    return a;
  }

}
