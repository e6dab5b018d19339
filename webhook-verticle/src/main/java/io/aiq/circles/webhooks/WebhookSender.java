package io.aiq.circles.webhooks;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.contracts.ApiException;
import io.aiq.circles.contracts.WebhookTargets;
import io.aiq.circles.persistence.JobView;
import io.aiq.circles.persistence.QueryRepository;
import io.aiq.circles.persistence.WebhookRepository;
import io.aiq.circles.persistence.WebhookRepository.DueWebhook;
import io.aiq.circles.results.ResultViews;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpClientRequest;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.PoolOptions;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.SocketAddress;
import java.net.InetAddress;
import java.net.URI;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends the recorded webhooks: claims due deliveries from PostgreSQL (several replicas share them,
 * see {@link WebhookRepository#claimDue}), makes one attempt each, records the outcome. An attempt is
 * a POST of the job's JSON, exactly as {@code GET /jobs/{jobId}} renders it without its own
 * {@code webhook} member (whose state the delivery itself changes), signed by {@link WebhookSigner}.
 * 2xx is delivered; anything else (a 3xx too: redirects are not followed), a network error or no
 * answer within {@code webhooks.timeout-ms} is a failed attempt, retried after an exponential
 * back-off with jitter, up to {@code webhooks.max-attempts}; then the delivery is failed and a
 * record goes to the dead-letter topic.
 *
 * <p>Attempts in flight are bounded in total ({@code webhooks.max-concurrent}) and per target, the
 * URL's host:port ({@code webhooks.max-per-host}): a receiver that hangs holds its own slots until
 * the timeout and nobody else's. The target is checked again before every attempt
 * ({@link WebhookTargets}: its name may resolve elsewhere than at upload), and the connection goes to
 * the address that was checked, not to a second lookup.
 *
 * <p>Runs on its verticle's event loop: the counters below are touched from that thread only.
 */
final class WebhookSender {
  private static final Logger LOG = LoggerFactory.getLogger(WebhookSender.class);
  static final String TARGET_BUSY = "target_busy";
  static final String JOB_NOT_FINAL = "job_not_final";

  /** Gives up a delivery: the dead letter, acknowledged by the broker. */
  @FunctionalInterface
  interface DeadLetters {
    Future<?> send(DueWebhook delivery, int attempts, String lastError);
  }

  private final Vertx vertx;
  private final AppConfig.Webhooks settings;
  private final WebhookRepository deliveries;
  private final QueryRepository jobs;
  private final WebhookSigner signer;
  private final DeadLetters deadLetters;
  private final MeterRegistry registry;
  private final String userAgent;
  private final Map<String, Integer> inFlightByTarget = new HashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();
  private HttpClientAgent client;
  private long timer = -1;
  private boolean claiming;
  private boolean claimAgain;
  private boolean stopped;

  WebhookSender(Vertx vertx, AppConfig.Webhooks settings, WebhookRepository deliveries, QueryRepository jobs,
                WebhookSigner signer, DeadLetters deadLetters, MeterRegistry registry, String userAgent) {
    this.vertx = vertx;
    this.settings = settings;
    this.deliveries = deliveries;
    this.jobs = jobs;
    this.signer = signer;
    this.deadLetters = deadLetters;
    this.registry = registry;
    this.userAgent = userAgent;
  }

  void start() {
    client = vertx.createHttpClient(new HttpClientOptions()
            .setConnectTimeout((int) Math.min(Integer.MAX_VALUE, settings.timeoutMs()))
            .setMaxRedirects(0)
            .setKeepAlive(true),
        // one pool per target address: its connections are the per-target bound's, no more
        new PoolOptions().setHttp1MaxSize(settings.maxPerHost()).setHttp2MaxSize(1));
    registry.gauge("aiq_webhook_attempts_in_flight", inFlight);
    timer = vertx.setPeriodic(settings.pollIntervalMs(), t -> claim());
  }

  /** Looks for due deliveries now (a new one was recorded), not at the next poll. */
  void nudge() {
    claim();
  }

  /** Stops claiming; attempts in flight end by themselves (their leases make them due again if cut). */
  Future<Void> stop() {
    stopped = true;
    if (timer >= 0) {
      vertx.cancelTimer(timer);
    }
    return client == null ? Future.succeededFuture() : client.close();
  }

  private void claim() {
    if (stopped) {
      return;
    }
    if (claiming) {
      claimAgain = true;
      return;
    }
    int free = settings.maxConcurrent() - inFlight.get();
    if (free <= 0) {
      return;
    }
    List<String> busy = new ArrayList<>();
    inFlightByTarget.forEach((target, n) -> {
      if (n >= settings.maxPerHost()) {
        busy.add(target);
      }
    });
    claiming = true;
    deliveries.claimDue(free, busy, leaseMs()).onComplete(ar -> {
      claiming = false;
      if (ar.failed()) {
        LOG.warn("webhooks: could not claim due deliveries (retrying at the next poll): {}", ar.cause().toString());
        return;
      }
      for (DueWebhook d : ar.result()) {
        begin(d);
      }
      if (claimAgain) {
        claimAgain = false;
        claim();
      }
    });
  }

  /**
   * The claim holds a delivery this long: past the attempt's own bound (its timeout, the target's
   * lookup, the writes around it), so no other sender takes it while this one may still be at it.
   */
  private long leaseMs() {
    return 2 * settings.timeoutMs() + 30_000;
  }

  private void begin(DueWebhook d) {
    int held = inFlightByTarget.getOrDefault(d.target(), 0);
    if (held >= settings.maxPerHost()) {
      // claimed in the same batch as others to its target: back to the queue, no attempt counted
      postponed(TARGET_BUSY);
      deliveries.postpone(d.jobId(), settings.pollIntervalMs());
      return;
    }
    inFlightByTarget.put(d.target(), held + 1);
    inFlight.incrementAndGet();
    Future<Void> attempt;
    try {
      attempt = attempt(d);
    } catch (RuntimeException e) {
      attempt = Future.failedFuture(e);
    }
    attempt.onComplete(ar -> {
      inFlightByTarget.computeIfPresent(d.target(), (t, n) -> n <= 1 ? null : n - 1);
      inFlight.decrementAndGet();
      if (ar.failed()) {
        // its outcome was not recorded (the database away): the lease runs out and it is tried again
        LOG.warn("webhooks: delivery {} of job {}: {}", d.webhookId(), d.jobId(), ar.cause().toString());
      }
      claim();
    });
  }

  private Future<Void> attempt(DueWebhook d) {
    if (d.attempts() >= settings.maxAttempts()) {
      // the attempts were used up but the dead letter had not been acknowledged: finish giving up
      return giveUp(d, d.attempts(), d.lastError());
    }
    return jobs.job(d.jobId()).compose(found -> {
      if (found.isEmpty()) {
        // deleted with its image meanwhile; its delivery went with it
        return Future.succeededFuture();
      }
      JobView job = found.get();
      if (!job.status().terminal()) {
        // the event came before the results writer recorded it: the body would not be final yet
        postponed(JOB_NOT_FINAL);
        return deliveries.postpone(d.jobId(), settings.initialBackoffMs());
      }
      JsonObject body = ResultViews.job(job);
      body.remove(ResultViews.WEBHOOK);
      return send(d, body.toBuffer()).compose(outcome -> recordOutcome(d, outcome));
    });
  }

  /** What one attempt came to; {@code error} null when delivered. */
  record Outcome(String kind, String error) {
    boolean delivered() {
      return error == null;
    }
  }

  private Future<Outcome> send(DueWebhook d, Buffer body) {
    Timer.Sample sample = Timer.start(registry);
    URI uri;
    try {
      uri = WebhookTargets.parse(d.url());
    } catch (ApiException e) {
      return Future.succeededFuture(timed(sample, new Outcome("refused_target", e.getMessage())));
    }
    boolean allowPrivate = settings.allowPrivateTargets();
    return vertx.executeBlocking(() -> WebhookTargets.resolve(uri, allowPrivate), false)
        .transform(resolved -> {
          if (resolved.failed()) {
            Throwable e = resolved.cause();
            return Future.succeededFuture(e instanceof ApiException
                ? new Outcome("refused_target", e.getMessage()) : new Outcome("network_error", e.toString()));
          }
          return post(d, uri, resolved.result().get(0), body);
        })
        .map(outcome -> timed(sample, outcome));
  }

  private Outcome timed(Timer.Sample sample, Outcome outcome) {
    sample.stop(registry.timer("aiq_webhook_attempt_seconds", "outcome", outcome.kind()));
    registry.counter("aiq_webhook_attempts_total", "outcome", outcome.kind()).increment();
    return outcome;
  }

  /** One POST to the checked address, ended by {@code webhooks.timeout-ms} whatever the receiver does. */
  private Future<Outcome> post(DueWebhook d, URI uri, InetAddress address, Buffer body) {
    long timestamp = Instant.now().getEpochSecond();
    RequestOptions options = new RequestOptions()
        .setMethod(HttpMethod.POST)
        .setAbsoluteURI(uri.toString())
        // the address WebhookTargets checked, not a second lookup that could answer otherwise
        .setServer(SocketAddress.inetSocketAddress(WebhookTargets.port(uri), address.getHostAddress()))
        .setFollowRedirects(false)
        .setConnectTimeout(settings.timeoutMs())
        .putHeader("content-type", "application/json")
        .putHeader("user-agent", userAgent)
        .putHeader("webhook-id", d.webhookId())
        .putHeader("webhook-timestamp", String.valueOf(timestamp))
        .putHeader("webhook-signature", signer.sign(d.webhookId(), timestamp, body.getBytes()));
    Promise<Outcome> outcome = Promise.promise();
    HttpClientRequest[] request = new HttpClientRequest[1];
    boolean[] ended = new boolean[1];
    long deadline = vertx.setTimer(settings.timeoutMs(), t -> {
      outcome.tryComplete(new Outcome("timeout", "no answer within " + settings.timeoutMs() + " ms"));
      if (request[0] != null && !ended[0]) {
        // a receiver that hangs, or answers and then trickles its body, loses the connection
        request[0].reset();
      }
    });
    client.request(options)
        .compose(req -> {
          request[0] = req;
          return req.send(body);
        })
        .onSuccess(response -> {
          int status = response.statusCode();
          outcome.tryComplete(status >= 200 && status < 300 ? new Outcome("delivered", null)
              : new Outcome(status >= 300 && status < 400 ? "redirect" : "http_error", "HTTP " + status
                  + (status >= 300 && status < 400 ? " (redirects are not followed)" : "")));
          // the answer's body is not read, only drained, so the connection can be reused
          response.handler(ignored -> { });
          response.exceptionHandler(ignored -> { });
          response.endHandler(v -> {
            ended[0] = true;
            vertx.cancelTimer(deadline);
          });
        })
        .onFailure(e -> {
          vertx.cancelTimer(deadline);
          outcome.tryComplete(new Outcome("network_error", e.getClass().getSimpleName()
              + (e.getMessage() == null ? "" : ": " + e.getMessage())));
        });
    return outcome.future();
  }

  private Future<Void> recordOutcome(DueWebhook d, Outcome outcome) {
    int attempts = d.attempts() + 1;
    if (outcome.delivered()) {
      registry.counter("aiq_webhook_deliveries_total", "outcome", "delivered").increment();
      return deliveries.delivered(d.jobId(), attempts);
    }
    LOG.info("webhooks: attempt {} of {} of delivery {} (job {}) failed: {}", attempts, settings.maxAttempts(),
        d.webhookId(), d.jobId(), outcome.error());
    Future<Void> recorded = deliveries.attemptFailed(d.jobId(), attempts, truncate(outcome.error()),
        backoffMs(attempts));
    return attempts >= settings.maxAttempts()
        ? recorded.compose(v -> giveUp(d, attempts, outcome.error()))
        : recorded;
  }

  /** The dead letter first, so the failure is kept whatever happens next; then the delivery is failed. */
  private Future<Void> giveUp(DueWebhook d, int attempts, String lastError) {
    return deadLetters.send(d, attempts, lastError)
        .compose(v -> deliveries.failed(d.jobId(), attempts, truncate(lastError)))
        .onSuccess(v -> registry.counter("aiq_webhook_deliveries_total", "outcome", "failed").increment());
  }

  /**
   * The wait after the {@code attempts}-th failure: {@code initial-backoff-ms} doubled per attempt
   * after the first, at most {@code max-backoff-ms}, drawn between three quarters and all of that
   * (jitter: receivers that came back are not hit by every sender in step, and the waits still grow).
   */
  long backoffMs(int attempts) {
    double ceiling = Math.min((double) settings.maxBackoffMs(),
        settings.initialBackoffMs() * Math.pow(2, Math.max(0, attempts - 1)));
    return (long) (ceiling * (0.75 + 0.25 * ThreadLocalRandom.current().nextDouble()));
  }

  private void postponed(String reason) {
    registry.counter("aiq_webhook_postponed_total", "reason", reason).increment();
  }

  private static String truncate(String error) {
    return error == null || error.length() <= 500 ? error : error.substring(0, 500);
  }
}
