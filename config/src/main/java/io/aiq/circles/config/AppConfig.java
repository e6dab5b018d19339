package io.aiq.circles.config;

import io.aiq.circles.contracts.Topics;
import io.vertx.core.json.JsonObject;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * The whole configuration, read once at start-up from defaults, a YAML file and the environment (see
 * {@link ConfigLoader}), then handed to each verticle's constructor as the sections it needs.
 */
public record AppConfig(Set<Role> roles, String detector, Http http, Upload upload, Kafka kafka,
                        Database database, Store store, Inference inference, Results results,
                        Sweeper sweeper, Cluster cluster, Model model, KServe kserve, long dummyDelayMs, List<String> apiKeys,
                        RateLimit rateLimit, long shutdownTimeoutMs, JsonObject raw, ModelEndpoints modelEndpoints,
                        Retention retention) {


  /**
   * @param maxWaiters requests held by {@code Prefer: wait} at once in this process; beyond it a request
   *     is answered at once with the job's current state
   */
  public record Http(String host, int port, int maxWaitSeconds, long backendTimeoutMs, int idleTimeoutSeconds,
                     int maxWaiters) {
  }

  /**
   * What the gateway accepts, and when it says "not now".
   *
   * @param timeoutMs the whole body must arrive within this time
   * @param maxBytesInFlight upload bytes held in memory at once, over all uploads (503 beyond)
   * @param maxQueuedJobs jobs waiting for inference (consumer lag) beyond which uploads get 503; 0: no bound
   * @param maxBacklogSeconds seconds of work waiting (the lag over the measured drain rate) beyond
   *     which uploads get 503; 0: no bound
   */
  public record Upload(long maxBytes, long maxPixels, long timeoutMs, long maxBytesInFlight, long maxQueuedJobs,
                       double maxBacklogSeconds) {
    public boolean admissionBounded() {
      return maxQueuedJobs > 0 || maxBacklogSeconds > 0;
    }
  }

  /**
   * Requests per client: a token bucket of {@code burst} tokens refilled at {@code requestsPerSecond}
   * (0: no limit). The client is the TCP peer; when the peer is one of {@code trustedProxies} (IPs or
   * CIDRs) and {@code clientHeader} is set, the right-most address of that header that is not a
   * trusted proxy.
   */
  public record RateLimit(double requestsPerSecond, int burst, String clientHeader, List<String> trustedProxies) {
    public RateLimit {
      trustedProxies = List.copyOf(trustedProxies);
    }

    /** No trusted proxies: the client is always the TCP peer. */
    public RateLimit(double requestsPerSecond, int burst, String clientHeader) {
      this(requestsPerSecond, burst, clientHeader, List.of());
    }

    public boolean enabled() {
      return requestsPerSecond > 0;
    }
  }

  public record Kafka(String bootstrap, Topics topics, String groupPrefix, boolean createTopics,
                      int partitions, short replicationFactor, Duration pollTimeout,
                      int requestTimeoutMs, int deliveryTimeoutMs, int maxBlockMs, int sessionTimeoutMs,
                      int maxRecordAttempts) {
    public String group(String role) {
      return groupPrefix + "-" + role;
    }
  }

  public record Database(String url, String user, String password, int poolSize, int maxWaitQueue,
                         int connectTimeoutMs, boolean migrate) {
  }

  /**
   * Where image blobs live: {@code filesystem} (a folder under {@code root}, a shared volume in a
   * cluster) or {@code s3} (any S3-compatible object store, see {@link S3}).
   */
  public record Store(String type, Path root, S3 s3) {
    public static final String FILESYSTEM = "filesystem";
    public static final String S3_TYPE = "s3";

    public Store {
      if (!FILESYSTEM.equals(type) && !S3_TYPE.equals(type)) {
        throw new ConfigException("store.type must be filesystem or s3, got '" + type + "'");
      }
      if (S3_TYPE.equals(type) && (s3 == null || s3.bucket().isBlank())) {
        throw new ConfigException("store.type is s3 but store.s3.bucket is not set (AIQ_STORE_S3_BUCKET)");
      }
    }

    /** A filesystem store under this folder. */
    public Store(Path root) {
      this(FILESYSTEM, root, null);
    }

    public boolean isS3() {
      return S3_TYPE.equals(type);
    }
  }

  /**
   * An S3-compatible bucket. Blank values mean the SDK's own: no endpoint is AWS S3 of the region;
   * no access key is the default credentials chain (environment, web identity / IRSA, instance profile).
   *
   * @param prefix put before every blob's reference ({@code images/} → {@code images/ab/cd/abcd….jpg})
   * @param pathStyle {@code endpoint/bucket/key} rather than {@code bucket.endpoint/key} (MinIO, S3Proxy, Ceph)
   * @param workerThreads threads that run the SDK's blocking calls, never the event loops
   * @param timeoutMs the bound on one call, its retries included
   */
  public record S3(String bucket, String prefix, String endpoint, String region, boolean pathStyle,
                   String accessKeyId, String secretAccessKey, int workerThreads, long timeoutMs) {
    public S3 {
      if (accessKeyId.isBlank() != secretAccessKey.isBlank()) {
        throw new ConfigException("store.s3.access-key-id and store.s3.secret-access-key must be set together "
            + "(or both left blank for the default credentials chain)");
      }
      if (workerThreads < 1 || timeoutMs < 1) {
        throw new ConfigException("store.s3.worker-threads and store.s3.timeout-ms must be at least 1, got "
            + workerThreads + " and " + timeoutMs);
      }
    }

    @Override
    public String toString() {
      // never the secret in a log line
      return "S3[bucket=" + bucket + ", prefix=" + prefix + ", endpoint=" + endpoint + ", region=" + region
          + ", pathStyle=" + pathStyle + ", accessKeyId=" + accessKeyId + "]";
    }
  }

  /**
   * @param consumers consumers of ImageSubmitted in this process, each with its own partitions: while
   *     one publishes and commits a batch, another's images are in the model
   */
  public record Inference(int batchSize, long batchWaitMs, int workerThreads, int consumers, int maxAttempts,
                          long retryBackoffMs, long retryBackoffMaxMs) {
    public Inference {
      if (consumers < 1 || workerThreads < 1 || batchSize < 1) {
        throw new ConfigException("inference.batch-size, inference.worker-threads and inference.consumers must be at "
            + "least 1, got " + batchSize + ", " + workerThreads + " and " + consumers);
      }
    }
  }

  public record Results(int batchSize, long retryBackoffMs, long retryBackoffMaxMs) {
  }

  public record Sweeper(boolean enabled, long intervalMs, long queuedTimeoutMs, long processingTimeoutMs,
                        int maxSubmissions) {
  }

  /**
   * Retention, in the ingest role: images uploaded more than {@code days} days ago, with no job in
   * flight, are deleted like a DELETE would (blob, rows, ImageDeleted event), {@code batchSize} at
   * most per pass, a pass every {@code intervalMs}. {@code days} 0 turns it off; the pass still runs
   * to finish deletions a crash or an outage interrupted.
   */
  public record Retention(int days, int batchSize, long intervalMs) {
    public Retention {
      if (days < 0 || batchSize < 1 || intervalMs < 1) {
        throw new ConfigException("retention.days must be 0 (off) or more, retention.batch-size and "
            + "retention.interval-ms at least 1, got " + days + ", " + batchSize + " and " + intervalMs);
      }
    }

    public boolean enabled() {
      return days > 0;
    }
  }

  /**
   * @param port Hazelcast's member port (the next free one when taken)
   * @param eventBusPort the port the clustered event bus listens on and advertises: fixed, so a
   *     container can declare it and a NetworkPolicy open it (0: a random one, only where nothing
   *     filters ports)
   * @param kubernetesServiceDns a headless Service whose DNS names the members (Kubernetes); when
   *     set, members are found through it instead of {@code members}
   */
  public record Cluster(boolean enabled, String name, String host, int port, int eventBusPort, List<String> members,
                        String kubernetesServiceDns, String configFile) {
    public Cluster {
      if (eventBusPort < 0 || eventBusPort > 65535) {
        throw new ConfigException("cluster.event-bus-port must be 0 (random) or a port number, got " + eventBusPort);
      }
    }
  }

  /** The TensorFlow detector's SavedModel; {@code scoreThreshold} null means the model's own. */
  public record Model(Path path, int threads, Double scoreThreshold) {
  }

  /** A remote KServe endpoint serving the detector ({@code detector: kserve}). */
  public record KServe(String url, String model, String protocol, long timeoutMs) {
  }

  /**
   * The inference role's KServe V1/V2 endpoints. Their images are checked as uploads are
   * ({@link Upload#maxBytes()}, {@link Upload#maxPixels()}).
   *
   * @param maxImagesPerRequest images one request may carry (each costs its pixels decoded and a
   *     model input of floats); beyond it, 413
   * @param maxWaitingRequests requests held at once, from their body's arrival to their answer;
   *     beyond it, 503 with Retry-After
   */
  public record ModelEndpoints(int maxImagesPerRequest, int maxWaitingRequests) {
    public ModelEndpoints {
      if (maxImagesPerRequest < 1 || maxWaitingRequests < 1) {
        throw new ConfigException("model-endpoints.max-images-per-request and model-endpoints.max-waiting-requests "
            + "must be at least 1, got " + maxImagesPerRequest + " and " + maxWaitingRequests);
      }
    }
  }

  public static AppConfig from(JsonObject json) {
    Settings top = new Settings("", json);
    Settings http = Settings.of(json, "http");
    Settings upload = Settings.of(json, "upload");
    Settings kafka = Settings.of(json, "kafka");
    Settings db = Settings.of(json, "database");
    Settings store = Settings.of(json, "store");
    Settings inf = Settings.of(json, "inference");
    Settings res = Settings.of(json, "results");
    Settings sw = Settings.of(json, "sweeper");
    Settings cl = Settings.of(json, "cluster");
    Settings md = Settings.of(json, "model");
    Settings ks = Settings.of(json, "kserve");
    Settings rl = Settings.of(json, "rate-limit");
    return new AppConfig(
        checkRoles(parseRoles(top.string("roles")), cl.bool("enabled")),
        top.string("detector").trim().toLowerCase(Locale.ROOT),
        new Http(http.string("host"), http.integer("port"), http.integer("max-wait-seconds"),
            http.longValue("backend-timeout-ms"), http.integer("idle-timeout-seconds"), http.integer("max-waiters")),
        new Upload(upload.longValue("max-bytes"), upload.longValue("max-pixels"), upload.longValue("timeout-ms"),
            upload.longValue("max-bytes-in-flight"), upload.longValue("max-queued-jobs"),
            upload.doubleValue("max-backlog-seconds")),
        new Kafka(kafka.string("bootstrap"), Topics.withPrefix(kafka.string("topic-prefix")),
            kafka.string("group-prefix"), kafka.bool("create-topics"), kafka.integer("partitions"),
            (short) kafka.integer("replication-factor"), Duration.ofMillis(kafka.longValue("poll-timeout-ms")),
            kafka.integer("request-timeout-ms"), kafka.integer("delivery-timeout-ms"),
            kafka.integer("max-block-ms"), kafka.integer("session-timeout-ms"), kafka.integer("max-record-attempts")),
        new Database(db.string("url"), db.string("user"), db.string("password"), db.integer("pool-size"),
            db.integer("max-wait-queue"), db.integer("connect-timeout-ms"), db.bool("migrate")),
        store(store, new Settings("store.s3", store.json().getJsonObject("s3", new JsonObject()))),
        new Inference(inf.integer("batch-size"), inf.longValue("batch-wait-ms"), inf.integer("worker-threads"), inf.integer("consumers"),
            inf.integer("max-attempts"),
            inf.longValue("retry-backoff-ms"), inf.longValue("retry-backoff-max-ms")),
        new Results(res.integer("batch-size"), res.longValue("retry-backoff-ms"),
            res.longValue("retry-backoff-max-ms")),
        new Sweeper(sw.bool("enabled"), sw.longValue("interval-ms"), sw.longValue("queued-timeout-ms"),
            sw.longValue("processing-timeout-ms"), sw.integer("max-submissions")),
        new Cluster(cl.bool("enabled"), cl.string("name"), cl.string("host"), cl.integer("port"), cl.integer("event-bus-port"),
            Arrays.stream(cl.string("members").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList(),
            cl.string("kubernetes-service-dns").trim(), cl.string("config-file")),
        new Model(Path.of(md.string("path")), md.integer("threads"),
            md.string("score-threshold").isBlank() ? null : Double.valueOf(md.string("score-threshold"))),
        new KServe(ks.string("url"), ks.string("model"), kserveProtocol(ks.string("protocol")), ks.longValue("timeout-ms")),
        Settings.of(json, "dummy").longValue("delay-ms"),
        Arrays.stream(top.string("api-keys").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList(),
        new RateLimit(rl.doubleValue("requests-per-second"), rl.integer("burst"), rl.string("client-header").trim(),
            Arrays.stream(rl.string("trusted-proxies").split(",")).map(String::trim).filter(s -> !s.isEmpty()).toList()),
        top.longValue("shutdown-timeout-ms"),
        json.copy(),
        new ModelEndpoints(Settings.of(json, "model-endpoints").integer("max-images-per-request"),
            Settings.of(json, "model-endpoints").integer("max-waiting-requests")),
        new Retention(Settings.of(json, "retention").integer("days"), Settings.of(json, "retention").integer("batch-size"),
            Settings.of(json, "retention").longValue("interval-ms")));
  }

  private static Store store(Settings store, Settings s3) {
    String type = store.string("type").trim().toLowerCase(Locale.ROOT);
    return new Store(type, Path.of(store.string("root")), !Store.S3_TYPE.equals(type) ? null
        : new S3(s3.string("bucket").trim(), s3.string("prefix").trim(), s3.string("endpoint").trim(),
            s3.string("region").trim(), s3.bool("path-style"), s3.string("access-key-id").trim(),
            s3.string("secret-access-key").trim(), s3.integer("worker-threads"), s3.longValue("timeout-ms")));
  }

  private static String kserveProtocol(String p) {
    String v = p.trim().toLowerCase(Locale.ROOT);
    if (!v.equals("v1") && !v.equals("v2")) {
      throw new ConfigException("kserve.protocol must be v1 or v2, got '" + p + "'");
    }
    return v;
  }

  static Set<Role> parseRoles(String roles) {
    Set<Role> out = EnumSet.noneOf(Role.class);
    for (String name : roles.split(",")) {
      if (name.isBlank()) {
        continue;
      }
      if (name.trim().equalsIgnoreCase("all")) {
        out.addAll(EnumSet.allOf(Role.class));
      } else {
        out.add(Role.parse(name));
      }
    }
    if (out.isEmpty()) {
      throw new ConfigException("roles: at least one role must be named");
    }
    return Collections.unmodifiableSet(out);
  }

  /**
   * The gateway answers uploads through ingest and queries through the query role, over the event bus:
   * without a cluster they must run in this process, or its requests could never be answered.
   *
   * @throws ConfigException for a process whose gateway would have no one to ask
   */
  static Set<Role> checkRoles(Set<Role> roles, boolean clustered) {
    if (clustered || !roles.contains(Role.GATEWAY)) {
      return roles;
    }
    List<String> missing = java.util.stream.Stream.of(Role.INGEST, Role.QUERIES).filter(r -> !roles.contains(r))
        .map(Role::wire).toList();
    if (!missing.isEmpty()) {
      throw new ConfigException("roles: the gateway needs " + String.join(" and ", missing) + " in the same process "
          + "(they answer its uploads and queries over the local event bus), or cluster.enabled=true; got roles "
          + String.join(",", roles.stream().map(Role::wire).toList()) + ". The API process is gateway,ingest,queries. "
          + "Note: results is only the results writer now; the queries it used to answer are the queries role");
    }
    return roles;
  }

  public boolean runs(Role role) {
    return roles.contains(role);
  }

  /**
   * Batches and {@code Idempotency-Key} of {@code POST /images}, from the {@code upload} section (read
   * from the raw configuration, so {@link Upload}'s components stay as they were).
   *
   * @param maxFilesPerRequest file parts one request may carry; beyond it 413 {@code too_many_files}
   * @param idempotencyTtlHours how long a key's first answer is kept and replayed
   */
  public record UploadBatches(int maxFilesPerRequest, long idempotencyTtlHours) {
    public UploadBatches {
      if (maxFilesPerRequest < 1 || idempotencyTtlHours < 1) {
        throw new ConfigException("upload.max-files-per-request and upload.idempotency-ttl-hours must be at least 1, got "
            + maxFilesPerRequest + " and " + idempotencyTtlHours);
      }
    }
  }

  public UploadBatches uploadBatches() {
    Settings u = Settings.of(raw, "upload");
    return new UploadBatches(u.integer("max-files-per-request"), u.longValue("idempotency-ttl-hours"));
  }

  /**
   * A job's event stream ({@code GET /jobs/{jobId}/events}), in the gateway. Read from the raw
   * configuration, so this section is one method here and no component of the record.
   *
   * @param maxEventStreams streams one gateway process holds open at once; beyond it 503 + Retry-After
   * @param eventHeartbeatSeconds a comment line is sent after this long without an event, so proxies
   *     and the server's idle timeout ({@code http.idle-timeout-seconds}) keep the stream open
   */
  public record Jobs(int maxEventStreams, int eventHeartbeatSeconds) {
    public Jobs {
      if (maxEventStreams < 0 || eventHeartbeatSeconds < 1) {
        throw new ConfigException("jobs.max-event-streams must be at least 0 and jobs.event-heartbeat-seconds at"
            + " least 1, got " + maxEventStreams + " and " + eventHeartbeatSeconds);
      }
    }
  }

  public Jobs jobs() {
    Settings j = Settings.of(raw, "jobs");
    return new Jobs(j.integer("max-event-streams"), j.integer("event-heartbeat-seconds"));
  }

  /**
   * Webhooks ({@code callbackUrl} on uploads), signed as Standard Webhooks say: used by the gateway
   * (is a callback allowed, and to where) and by the webhooks role (the sender). Read from the raw
   * configuration, so this section is one method here and no component of the record.
   *
   * @param secret the signing key: {@code whsec_} and base64 (the spec's form), or any other text
   *     whose UTF-8 bytes are the key; blank turns webhooks off (uploads with a callbackUrl get 400
   *     {@code webhooks_disabled}, and the webhooks role refuses to start)
   * @param allowPrivateTargets deliver to loopback, private and link-local addresses too (tests, a
   *     receiver inside the cluster); off, such targets are refused with 400
   * @param timeoutMs the bound on one attempt: connect, send, answer
   * @param maxAttempts attempts before the delivery is failed and dead-lettered
   * @param initialBackoffMs the wait after the first failed attempt, doubled after each (with jitter)
   * @param maxBackoffMs the longest wait between attempts
   * @param maxConcurrent attempts in flight at once in this process, over all targets
   * @param maxPerHost attempts in flight at once in this process to one host
   * @param pollIntervalMs how often the sender looks for due deliveries (it also looks at once when
   *     this process records a new one)
   */
  public record Webhooks(String secret, boolean allowPrivateTargets, long timeoutMs, int maxAttempts,
                         long initialBackoffMs, long maxBackoffMs, int maxConcurrent, int maxPerHost,
                         long pollIntervalMs) {
    public Webhooks {
      if (timeoutMs < 1 || maxAttempts < 1 || initialBackoffMs < 1 || maxBackoffMs < initialBackoffMs
          || maxConcurrent < 1 || maxPerHost < 1 || pollIntervalMs < 1) {
        throw new ConfigException("webhooks.timeout-ms, max-attempts, initial-backoff-ms, max-concurrent, max-per-host "
            + "and poll-interval-ms must be at least 1, and max-backoff-ms at least initial-backoff-ms");
      }
    }

    public boolean enabled() {
      return !secret.isBlank();
    }

    @Override
    public String toString() {
      // never the secret in a log line
      return "Webhooks[enabled=" + enabled() + ", allowPrivateTargets=" + allowPrivateTargets + ", timeoutMs="
          + timeoutMs + ", maxAttempts=" + maxAttempts + ", initialBackoffMs=" + initialBackoffMs + ", maxBackoffMs="
          + maxBackoffMs + ", maxConcurrent=" + maxConcurrent + ", maxPerHost=" + maxPerHost + "]";
    }
  }

  public Webhooks webhooks() {
    Settings w = Settings.of(raw, "webhooks");
    return new Webhooks(w.string("secret").trim(), w.bool("allow-private-targets"), w.longValue("timeout-ms"),
        w.integer("max-attempts"), w.longValue("initial-backoff-ms"), w.longValue("max-backoff-ms"),
        w.integer("max-concurrent"), w.integer("max-per-host"), w.longValue("poll-interval-ms"));
  }

  /**
   * OpenTelemetry traces, from the {@code tracing} section (read from the raw configuration, so this
   * section is one method here and no component of the record).
   *
   * @param otlpEndpoint where spans are exported, OTLP over http/protobuf (e.g. {@code
   *     http://localhost:4318}, {@code /v1/traces} is added); blank: tracing is off
   * @param sampleRatio the share of new traces recorded, 0 to 1; a trace begun elsewhere follows its
   *     parent's decision
   */
  public record Tracing(String otlpEndpoint, double sampleRatio) {
    public Tracing {
      if (sampleRatio < 0 || sampleRatio > 1) {
        throw new ConfigException("tracing.sample-ratio must be between 0 and 1, got " + sampleRatio);
      }
    }

    public boolean enabled() {
      return !otlpEndpoint.isBlank();
    }
  }

  public Tracing tracing() {
    Settings t = Settings.of(raw, "tracing");
    return new Tracing(t.string("otlp-endpoint").trim(), t.doubleValue("sample-ratio"));
  }
}
