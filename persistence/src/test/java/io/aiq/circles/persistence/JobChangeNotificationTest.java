package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.testing.PostgresFixture;
import io.vertx.core.Promise;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.pgclient.pubsub.PgSubscriber;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Migration V3: a job's status change is announced on aiq_job_changed, at commit, once, and nothing else is. */
@ExtendWith(VertxExtension.class)
class JobChangeNotificationTest {

  @Test
  void a_status_change_notifies_its_job_id_at_commit_and_other_updates_notify_nothing(Vertx vertx) throws Exception {
    String url = PostgresFixture.createDatabase();
    AppConfig.Database cfg = new AppConfig.Database(url, "", "", 2, 16, 5000, true);
    Database.migrate(vertx, cfg).await(60, TimeUnit.SECONDS);
    BlockingQueue<String> received = new LinkedBlockingQueue<>();
    PgSubscriber subscriber = PgSubscriber.subscriber(vertx, Database.connectOptions(cfg));
    Promise<Void> listening = Promise.promise();
    subscriber.channel("aiq_job_changed").subscribeHandler(v -> listening.tryComplete()).handler(received::add);
    subscriber.connect().await(30, TimeUnit.SECONDS);
    listening.future().await(30, TimeUnit.SECONDS);
    UUID job = UUID.randomUUID();
    try (Connection c = PostgresFixture.connect(url); Statement s = c.createStatement()) {
      s.execute("INSERT INTO images (image_id, storage_ref, content_type, format, width, height, size_bytes)"
          + " VALUES ('" + "b".repeat(64) + "', 'bb/bb/x.png', 'image/png', 'png', 1, 1, 1)");
      s.execute("INSERT INTO jobs (job_id, image_id, status) VALUES ('" + job + "', '" + "b".repeat(64) + "', 'queued')");
      s.execute("UPDATE jobs SET submissions = submissions + 1, updated_at = now() WHERE job_id = '" + job + "'");
      s.execute("UPDATE jobs SET status = 'queued' WHERE job_id = '" + job + "'");
      assertThat(received.poll(500, TimeUnit.MILLISECONDS)).as("an insert, or an update that leaves the status").isNull();

      c.setAutoCommit(false);
      s.execute("UPDATE jobs SET status = 'processing' WHERE job_id = '" + job + "'");
      assertThat(received.poll(300, TimeUnit.MILLISECONDS)).as("nothing before the commit").isNull();
      c.rollback();
      assertThat(received.poll(300, TimeUnit.MILLISECONDS)).as("nothing for a rollback").isNull();

      s.execute("UPDATE jobs SET status = 'processing' WHERE job_id = '" + job + "'");
      s.execute("UPDATE jobs SET status = 'succeeded' WHERE job_id = '" + job + "'");
      c.commit();
    }

    assertThat(received.poll(10, TimeUnit.SECONDS)).isEqualTo(job.toString());
    // two changes of one job in one transaction: PostgreSQL folds identical notifications into one
    assertThat(received.poll(500, TimeUnit.MILLISECONDS)).isNull();
    assertThat(List.copyOf(received)).isEmpty();
    subscriber.close().await(10, TimeUnit.SECONDS);
  }
}
