package io.aiq.circles.ingest;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import java.util.function.Supplier;

/**
 * A pass run every interval on the event loop, never two at once: a pass still running when the
 * next one is due makes that one a no-op (resolving to 0). The sweepers of this role share it.
 */
final class PeriodicPass {
  private final Vertx vertx;
  private final long intervalMs;
  private final Supplier<Future<Integer>> pass;
  private long timer = -1;
  private boolean running;

  PeriodicPass(Vertx vertx, long intervalMs, Supplier<Future<Integer>> pass) {
    this.vertx = vertx;
    this.intervalMs = intervalMs;
    this.pass = pass;
  }

  void start() {
    timer = vertx.setPeriodic(intervalMs, t -> run());
  }

  void stop() {
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
  }

  /** One pass now, unless one is running. Resolves to what the pass counted. */
  Future<Integer> run() {
    if (running) {
      return Future.succeededFuture(0);
    }
    running = true;
    return pass.get().eventually(() -> {
      running = false;
      return Future.succeededFuture();
    });
  }
}
