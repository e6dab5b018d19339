package io.aiq.circles.eval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** The assignment is optimal: on random small matrices it costs what exhaustive search finds. */
class HungarianTest {

  @Test
  void matches_brute_force_on_random_rectangular_matrices() {
    Random random = new Random(42);
    for (int trial = 0; trial < 500; trial++) {
      int rows = 1 + random.nextInt(6);
      int cols = 1 + random.nextInt(6);
      double[][] cost = new double[rows][cols];
      for (double[] row : cost) {
        for (int c = 0; c < cols; c++) {
          // a third of the pairs do not overlap at all, as in real images
          row[c] = random.nextInt(3) == 0 ? 1.0 : random.nextDouble();
        }
      }

      List<int[]> pairs = Hungarian.assign(cost, 1.0);

      assertThat(pairs).hasSize(Math.min(rows, cols));
      assertThat(pairs.stream().mapToInt(p -> p[0]).distinct().count()).isEqualTo(pairs.size());
      assertThat(pairs.stream().mapToInt(p -> p[1]).distinct().count()).isEqualTo(pairs.size());
      double total = pairs.stream().mapToDouble(p -> cost[p[0]][p[1]]).sum();
      assertThat(total).as("trial %d, %dx%d", trial, rows, cols).isCloseTo(bruteForce(cost), within(1e-9));
    }
  }

  @Test
  void empty_matrices_have_no_pairs() {
    assertThat(Hungarian.assign(new double[0][0], 1.0)).isEmpty();
    assertThat(Hungarian.assign(new double[3][0], 1.0)).isEmpty();
  }

  /** The least total cost of pairing min(rows, cols) rows with distinct columns, by trying every way. */
  private static double bruteForce(double[][] cost) {
    boolean transpose = cost.length > cost[0].length;
    double[][] m = transpose ? transpose(cost) : cost;
    return search(m, 0, new boolean[m[0].length]);
  }

  private static double search(double[][] m, int row, boolean[] used) {
    if (row == m.length) {
      return 0;
    }
    double best = Double.POSITIVE_INFINITY;
    for (int c = 0; c < used.length; c++) {
      if (!used[c]) {
        used[c] = true;
        best = Math.min(best, m[row][c] + search(m, row + 1, used));
        used[c] = false;
      }
    }
    return best;
  }

  private static double[][] transpose(double[][] a) {
    double[][] t = new double[a[0].length][a.length];
    for (int i = 0; i < a.length; i++) {
      for (int j = 0; j < a[0].length; j++) {
        t[j][i] = a[i][j];
      }
    }
    return t;
  }
}
