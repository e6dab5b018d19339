package io.aiq.circles.eval;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.jgrapht.alg.interfaces.MatchingAlgorithm;
import org.jgrapht.alg.matching.KuhnMunkresMinimalWeightBipartitePerfectMatching;
import org.jgrapht.graph.DefaultWeightedEdge;
import org.jgrapht.graph.SimpleWeightedGraph;

/**
 * The minimum-cost assignment of rows to columns (the Hungarian method, by JGraphT's Kuhn–Munkres).
 * A rectangular matrix is padded to a square one with dummy rows or columns of cost {@code padCost};
 * pairs with a dummy are not returned.
 */
public final class Hungarian {
  private Hungarian() {
  }

  /** @return {@code [row, column]} pairs, at most {@code min(rows, columns)} of them */
  public static List<int[]> assign(double[][] cost, double padCost) {
    int rows = cost.length;
    int cols = rows == 0 ? 0 : cost[0].length;
    if (rows == 0 || cols == 0) {
      return List.of();
    }
    int n = Math.max(rows, cols);
    SimpleWeightedGraph<Integer, DefaultWeightedEdge> graph = new SimpleWeightedGraph<>(DefaultWeightedEdge.class);
    Set<Integer> left = new HashSet<>();
    Set<Integer> right = new HashSet<>();
    for (int i = 0; i < n; i++) {
      graph.addVertex(i);
      left.add(i);
      graph.addVertex(n + i);
      right.add(n + i);
    }
    for (int r = 0; r < n; r++) {
      for (int c = 0; c < n; c++) {
        DefaultWeightedEdge e = graph.addEdge(r, n + c);
        graph.setEdgeWeight(e, r < rows && c < cols ? cost[r][c] : padCost);
      }
    }
    MatchingAlgorithm.Matching<Integer, DefaultWeightedEdge> matching =
        new KuhnMunkresMinimalWeightBipartitePerfectMatching<>(graph, left, right).getMatching();
    List<int[]> pairs = new ArrayList<>();
    for (DefaultWeightedEdge e : matching.getEdges()) {
      // edges were added as (row, n + column): the source is the row
      int r = graph.getEdgeSource(e);
      int c = graph.getEdgeTarget(e) - n;
      if (r < rows && c < cols) {
        pairs.add(new int[] {r, c});
      }
    }
    pairs.sort((a, b) -> Integer.compare(a[0], b[0]));
    return pairs;
  }
}
