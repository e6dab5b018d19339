package io.aiq.circles.persistence;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import java.util.concurrent.TimeUnit;

/** The image store {@code store.type} names. */
public final class ImageStores {
  private ImageStores() {
  }

  /** A {@link FileImageStore} under {@code store.root}, or an {@link S3ImageStore} on {@code store.s3}. */
  public static ImageStore create(Vertx vertx, AppConfig.Store store) {
    return store.isS3() ? new S3ImageStore(vertx, store.s3()) : new FileImageStore(vertx, store.root());
  }

  /**
   * Readiness of the store ({@code store}): for S3, the bucket answers a HEAD with this process's
   * credentials. Answered (KO) before the check's own timeout, as the other checks are.
   */
  public static void registerHealth(HealthChecks checks, ImageStore store) {
    checks.register("store", 5000, promise -> store.ready()
        .timeout(4, TimeUnit.SECONDS)
        .onSuccess(v -> promise.tryComplete(Status.OK(new JsonObject().put("store", store.toString()))))
        .onFailure(e -> promise.tryComplete(Status.KO(new JsonObject().put("store", store.toString())
            .put("error", e.getMessage())))));
  }
}
