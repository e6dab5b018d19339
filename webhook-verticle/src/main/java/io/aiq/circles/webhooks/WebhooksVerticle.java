package io.aiq.circles.webhooks;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.config.Role;
import io.aiq.circles.contracts.events.InvalidEventException;
import io.aiq.circles.messaging.Backoff;
import io.aiq.circles.messaging.ConsumerLoop;
import io.aiq.circles.messaging.ConsumerVerticle;
import io.aiq.circles.messaging.Outages;
import io.aiq.circles.persistence.QueryRepository;
import io.aiq.circles.persistence.WebhookRepository;
import io.aiq.circles.persistence.WebhookRepository.DueWebhook;
import io.aiq.circles.persistence.WebhookRepository.FinishedJob;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.JsonObject;
import io.vertx.kafka.client.consumer.KafkaConsumerRecord;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import java.util.UUID;

/**
 * The webhooks role. Its own consumer (group {@code <prefix>-webhooks}, auto-commit off) reads the
 * events that finish a job ({@code aiq.detections.completed}, {@code aiq.detections.failed},
 * {@code aiq.jobs.cancelled}) and records, in one statement per batch, a pending delivery for each
 * job that has a callback; then it commits. It never waits on a receiver: sending is the
 * {@link WebhookSender}'s, from PostgreSQL, so a receiver that is slow or away holds no partition. A
 * redelivered event records nothing new (one delivery per job), so it sends no second webhook.
 */
public final class WebhooksVerticle extends ConsumerVerticle {
  /** The CloudEvents type of the dead letter of a delivery given up. */
  public static final String DEAD_LETTER_TYPE = "io.aiq.circles.webhook.failed";
  /** Its {@code aiq_dlq_reason}. */
  public static final String DEAD_LETTER_REASON = "webhook_failed";

  private final Pool pool;
  private final AppConfig.Webhooks settings;
  private final WebhookSigner signer;
  private final WebhookRepository repository;
  private WebhookSender sender;

  /** @throws io.aiq.circles.config.ConfigException without {@code webhooks.secret} */
  public WebhooksVerticle(AppConfig config, Pool pool, MeterRegistry registry) {
    super(config, registry, Role.WEBHOOKS.wire());
    this.pool = pool;
    this.settings = config.webhooks();
    this.signer = WebhookSigner.of(settings);
    this.repository = new WebhookRepository(pool);
  }

  /** {@code aiq-circles-webhooks/<version>}: the User-Agent of every webhook. */
  public static String userAgent() {
    Properties p = new Properties();
    try (InputStream in = WebhooksVerticle.class.getResourceAsStream("version.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // no version then: the name alone still says who calls
    }
    String version = p.getProperty("version", "");
    return "aiq-circles-webhooks" + (version.isBlank() || version.startsWith("${") ? "" : "/" + version);
  }

  @Override
  protected Future<Void> setUp() {
    sender = new WebhookSender(vertx, settings, repository, new QueryRepository(pool), signer, this::deadLetterDelivery,
        registry, userAgent());
    sender.start();
    return Future.succeededFuture();
  }

  @Override
  protected void tearDown() {
    if (sender != null) {
      sender.stop();
    }
  }

  @Override
  protected List<String> subscriptions() {
    return List.of(topics.detectionsCompleted(), topics.detectionsFailed(), topics.jobsCancelled());
  }

  @Override
  protected int maxPollRecords() {
    return config.results().batchSize();
  }

  @Override
  protected Backoff backoff() {
    return new Backoff(config.results().retryBackoffMs(), config.results().retryBackoffMaxMs());
  }

  @Override
  protected Future<ConsumerLoop.Handled> handle(List<KafkaConsumerRecord<String, Buffer>> records) {
    List<FinishedJob> finished = new ArrayList<>(records.size());
    List<KafkaConsumerRecord<String, Buffer>> unreadable = new ArrayList<>();
    for (KafkaConsumerRecord<String, Buffer> r : records) {
      UUID jobId = jobId(r);
      if (jobId == null) {
        unreadable.add(r);
      } else {
        finished.add(new FinishedJob(jobId, r.topic(), r.partition(), r.offset()));
      }
    }
    // the results writer dead-letters unreadable events too; here they are only kept, not acted on
    Future<?> kept = Future.succeededFuture();
    for (KafkaConsumerRecord<String, Buffer> r : unreadable) {
      kept = kept.compose(v -> deadLetter(r, InvalidEventException.REASON, "no job id in the event", 1));
    }
    return kept.compose(v -> repository.record(finished)).map(recorded -> {
      if (recorded > 0) {
        registry.counter("aiq_webhook_deliveries_recorded_total").increment(recorded);
        sender.nudge();
      }
      return ConsumerLoop.Handled.all(records);
    });
  }

  private static UUID jobId(KafkaConsumerRecord<String, Buffer> r) {
    try {
      return UUID.fromString(new JsonObject(r.value()).getString("jobId"));
    } catch (RuntimeException e) {
      return null;
    }
  }

  /** The database away (as for the results writer) or the broker: retried without counting. */
  @Override
  protected boolean isOutage(Throwable e) {
    if (e instanceof PgException pg && pg.getSqlState() != null) {
      String cls = pg.getSqlState().substring(0, 2);
      return cls.equals("08") || cls.equals("53") || pg.getSqlState().startsWith("57P");
    }
    return Outages.isKafkaOutage(e);
  }

  /** A record given up here fails no job: the job is finished already, this role only reports it. */
  @Override
  protected Future<?> failJob(KafkaConsumerRecord<String, Buffer> record, int attempts) {
    return Future.succeededFuture();
  }

  /** The dead letter of a delivery given up, naming the event that finished its job. */
  private Future<?> deadLetterDelivery(DueWebhook d, int attempts, String lastError) {
    JsonObject value = new JsonObject().put("jobId", d.jobId().toString()).put("webhookId", d.webhookId())
        .put("url", d.url()).put("attempts", attempts).put("lastError", lastError);
    registry.counter("aiq_dead_letters_total", "role", role(), "reason", DEAD_LETTER_REASON).increment();
    return publisher.deadLetter(topics.deadLetter(), d.jobId().toString(), DEAD_LETTER_TYPE, value, d.eventTopic(),
        d.eventPartition(), d.eventOffset(), config.kafka().group(role()), DEAD_LETTER_REASON, lastError, attempts);
  }
}
