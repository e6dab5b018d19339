package io.aiq.circles.app;

import io.aiq.circles.contracts.UploadBytesCodec;
import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.aiq.circles.gateway.Admission;
import io.aiq.circles.gateway.GatewayVerticle;
import io.aiq.circles.gateway.ClientGuards;
import io.aiq.circles.gateway.OpsRoutes;
import io.aiq.circles.inference.Detector;
import io.aiq.circles.inference.Detectors;
import io.aiq.circles.inference.InferenceVerticle;
import io.aiq.circles.inference.ModelEndpoints;
import io.aiq.circles.ingest.IngestVerticle;
import io.aiq.circles.messaging.BacklogMonitor;
import io.aiq.circles.messaging.KafkaHealth;
import io.aiq.circles.messaging.TopicAdmin;
import io.aiq.circles.persistence.Database;
import io.aiq.circles.persistence.ImageStore;
import io.aiq.circles.persistence.ImageStores;
import io.aiq.circles.results.ResultsConsumerVerticle;
import io.aiq.circles.results.ResultsQueryVerticle;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.aiq.circles.webhooks.WebhookSigner;
import io.aiq.circles.webhooks.WebhooksVerticle;
import io.vertx.core.Deployable;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.WorkerExecutor;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.sqlclient.Pool;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One process of AIQ Circles: the shared resources its roles need (the database pool, Kafka topics,
 * the detector, the health checks) and the verticles of the roles named in configuration. Backends
 * start first and the HTTP server last, so a process only answers once it can serve.
 */
public final class AiqApplication {
  private static final Logger LOG = LoggerFactory.getLogger(AiqApplication.class);
  /** how often the gateway reads the inference backlog from the broker */
  private static final long BACKLOG_PROBE_MS = 1000;

  private final Vertx vertx;
  private final AppConfig config;
  private final PrometheusMeterRegistry registry;
  private final HealthChecks liveness;
  private final HealthChecks readiness;
  /** Deployment ids in the order asked (null while one is starting); roles start on several threads. */
  private final List<String> deployments = Collections.synchronizedList(new ArrayList<>());
  private Pool pool;
  private KafkaHealth kafkaHealth;
  private ImageStore healthStore;
  private BacklogMonitor backlog;
  private Detector detector;
  private ModelEndpoints modelEndpoints;
  private GatewayVerticle gateway;
  private ManagementVerticle management;

  private AiqApplication(Vertx vertx, AppConfig config, PrometheusMeterRegistry registry) {
    this.vertx = vertx;
    this.config = config;
    this.registry = registry;
    this.liveness = HealthChecks.create(vertx);
    this.readiness = HealthChecks.create(vertx);
  }

  public static Future<AiqApplication> start(Vertx vertx, AppConfig config, PrometheusMeterRegistry registry) {
    AiqApplication app = new AiqApplication(vertx, config, registry);
    return app.startAll().map(app).recover(e -> app.stop().transform(ignored -> Future.failedFuture(e)));
  }

  private Future<Void> startAll() {
    if (config.runs(Role.WEBHOOKS)) {
      // before anything starts: the webhooks role cannot sign without webhooks.secret (ConfigException)
      try {
        WebhookSigner.of(config.webhooks());
      } catch (RuntimeException e) {
        return Future.failedFuture(e);
      }
    }
    UploadBytesCodec.register(vertx.eventBus());
    liveness.register("event-loop", promise -> promise.complete(Status.OK()));
    readiness.register("roles", promise -> promise.complete(Status.OK(
        new JsonObject().put("roles", new JsonArray(new ArrayList<Object>(config.roles().stream().map(Role::wire).toList()))))));
    // The model loads (TensorFlow's native library, seconds on a first start) while the database,
    // the topics and the other roles come up, on a thread of its own: never on an event loop.
    Future<Detector> detectorLoaded = config.runs(Role.INFERENCE) ? loadDetector() : Future.succeededFuture();
    // readiness checks what this process's roles need, and nothing else: the API process
    // (gateway, ingest, queries) PostgreSQL and Kafka, inference Kafka and its detector, the results
    // writer Kafka and PostgreSQL; a clustered gateway alone checks neither
    boolean needsDatabase = config.runs(Role.INGEST) || config.runs(Role.QUERIES) || config.runs(Role.RESULTS)
        || config.runs(Role.WEBHOOKS);
    boolean needsKafka = config.runs(Role.INGEST) || config.runs(Role.INFERENCE) || config.runs(Role.RESULTS)
        || config.runs(Role.WEBHOOKS);
    Future<Void> ready = Future.succeededFuture();
    if (needsDatabase) {
      ready = ready.compose(v -> config.database().migrate()
              ? Database.migrate(vertx, config.database()).mapEmpty() : Future.<Void>succeededFuture())
          .compose(v -> {
            pool = Database.pool(vertx, config.database());
            Database.registerHealth(readiness, pool);
            return Future.<Void>succeededFuture();
          });
    }
    if (config.runs(Role.INGEST) || config.runs(Role.INFERENCE)) {
      // the roles that read or write blobs are ready only when the image store answers (S3: the bucket)
      healthStore = ImageStores.create(vertx, config.store());
      ImageStores.registerHealth(readiness, healthStore);
    }
    if (needsKafka) {
      ready = ready.compose(v -> config.kafka().createTopics()
              ? TopicAdmin.ensureTopics(vertx, config.kafka()) : Future.<Void>succeededFuture())
          .onSuccess(v -> kafkaHealth = KafkaHealth.register(vertx, readiness, config.kafka()));
    }
    // The roles start side by side once the backends are there: each consumer's start waits on the
    // broker (its group, the inference role's catch-up on cancellations), and one after the other
    // those waits made most of a cold start.
    Future<Void> backends = ready;
    List<Future<Void>> roles = new ArrayList<>();
    if (config.runs(Role.QUERIES)) {
      roles.add(backends.compose(v -> deploy(new ResultsQueryVerticle(pool, config.database(), config.http().maxWaiters(), registry))));
    }
    if (config.runs(Role.RESULTS)) {
      roles.add(backends.compose(v -> deploy(new ResultsConsumerVerticle(config, pool, registry))));
    }
    if (config.runs(Role.WEBHOOKS)) {
      roles.add(backends.compose(v -> deploy(new WebhooksVerticle(config, pool, registry))));
    }
    OpsRoutes ops = new OpsRoutes(liveness, readiness, registry);
    ClientGuards guards = new ClientGuards(config.apiKeys(), config.rateLimit());
    if (config.runs(Role.INFERENCE)) {
      roles.add(backends.compose(v -> detectorLoaded).compose(loaded -> {
        modelEndpoints = new ModelEndpoints(vertx, detector, config.inference().workerThreads(), config.upload(), config.modelEndpoints());
        ops.add(modelEndpoints.guardedBy(guards.rateLimit(), guards.requireKey(ClientGuards.Scope.MODEL)));
        // ready() may ask a remote server (kserve): never on the event loop
        readiness.register("detector", 5000, promise -> vertx.executeBlocking(detector::ready, false)
            .onComplete(ar -> promise.tryComplete(ar.succeeded() && ar.result()
                ? Status.OK(new JsonObject().put("model", detector.modelName()).put("version", detector.modelVersion()))
                : Status.KO(new JsonObject().put("model", detector.modelName())))));
        List<Future<Void>> consumers = new ArrayList<>();
        for (int i = 0; i < config.inference().consumers(); i++) {
          consumers.add(deploy(new InferenceVerticle(config, detector, registry)));
        }
        return Future.join(consumers).mapEmpty();
      }));
    }
    if (config.runs(Role.INGEST)) {
      roles.add(backends.compose(v -> deploy(new IngestVerticle(config, pool, registry))));
    }
    // join, not all: a role that fails waits for the others to finish starting, so stop() finds
    // every deployment made
    ready = roles.isEmpty() ? backends : Future.join(roles).mapEmpty();
    if (config.runs(Role.GATEWAY)) {
      ready = ready.compose(v -> {
        // the backlog as the broker sees it, shared by every API replica: what admission control reads
        if (config.upload().admissionBounded()) {
          backlog = new BacklogMonitor(vertx, config.kafka(), BACKLOG_PROBE_MS).start();
        }
        BacklogMonitor monitor = backlog;
        Admission admission = new Admission(config.upload(), () -> monitor == null ? null : monitor.latest(), registry);
        gateway = new GatewayVerticle(config, ops, guards, admission, registry);
        return deploy(gateway);
      });
    } else {
      ready = ready.compose(v -> {
        management = new ManagementVerticle(config.http(), ops);
        return deploy(management);
      });
    }
    return ready;
  }

  /**
   * Creates the detector on a one-off thread named {@code tensorflow}: TensorFlow's own thread pools
   * are started from it and inherit its name, so a profile (or {@code just bench}'s CPU account)
   * shows the model's CPU as "tensorflow" rather than under whichever thread loaded it.
   */
  private Future<Detector> loadDetector() {
    WorkerExecutor loader = vertx.createSharedWorkerExecutor("tensorflow", 1);
    return loader.executeBlocking(() -> Detectors.create(config), false)
        .onSuccess(loaded -> detector = loaded)
        .eventually(() -> loader.close());
  }

  /**
   * Deploys a role's verticle; its place in {@link #deployments} is taken when asked, not when done,
   * so stop() undeploys in the reverse order of asking: the HTTP server (asked last) first.
   */
  private Future<Void> deploy(Deployable verticle) {
    int slot;
    synchronized (deployments) {
      slot = deployments.size();
      deployments.add(null);
    }
    return vertx.deployVerticle(verticle).onSuccess(id -> deployments.set(slot, id)).mapEmpty();
  }

  /** The port the HTTP server listens on (the gateway's, or the management server's). */
  public int httpPort() {
    return gateway != null ? gateway.actualPort() : management != null ? management.actualPort() : -1;
  }

  public AppConfig config() {
    return config;
  }

  /**
   * Stops the roles in reverse order (the HTTP server first, so no new work comes in; the consumers
   * finish and commit their batch in hand), then releases the shared resources.
   */
  public Future<Void> stop() {
    Future<Void> chain = Future.succeededFuture();
    List<String> ids;
    synchronized (deployments) {
      ids = new ArrayList<>(deployments);
    }
    ids.removeIf(java.util.Objects::isNull);
    Collections.reverse(ids);
    for (String id : ids) {
      chain = chain.compose(v -> vertx.undeploy(id).recover(e -> {
        LOG.warn("undeploying {}: {}", id, e.toString());
        return Future.succeededFuture();
      }));
    }
    return chain.compose(v -> {
      deployments.clear();
      List<Future<?>> closing = new ArrayList<>();
      if (pool != null) {
        closing.add(pool.close());
      }
      if (kafkaHealth != null) {
        closing.add(kafkaHealth.close());
      }
      if (healthStore != null) {
        closing.add(healthStore.close());
      }
      if (backlog != null) {
        closing.add(backlog.close());
      }
      if (modelEndpoints != null) {
        modelEndpoints.close();
      }
      if (detector != null) {
        detector.close();
      }
      return Future.join(closing).mapEmpty();
    });
  }
}
