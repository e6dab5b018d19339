package io.aiq.circles.persistence;

import io.aiq.circles.config.AppConfig;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.core.net.NetClientOptions;
import io.vertx.ext.healthchecks.HealthChecks;
import io.vertx.ext.healthchecks.Status;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import java.util.concurrent.TimeUnit;
import org.flywaydb.core.Flyway;
import org.flywaydb.core.api.output.MigrateResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The PostgreSQL connection pool and the schema migrations. */
public final class Database {
  private static final Logger LOG = LoggerFactory.getLogger(Database.class);

  private Database() {
  }

  /**
   * A pool with explicit bounds: {@code pool-size} connections and at most {@code max-wait-queue}
   * waiting requests, past which a query fails at once instead of queueing without limit.
   */
  public static Pool pool(Vertx vertx, AppConfig.Database cfg) {
    PoolOptions pool = new PoolOptions().setMaxSize(cfg.poolSize()).setMaxWaitQueueSize(cfg.maxWaitQueue())
        .setName("aiq-postgres").setShared(true)
        .setConnectionTimeout(cfg.connectTimeoutMs()).setConnectionTimeoutUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
    return PgBuilder.pool().with(pool).with(new NetClientOptions().setConnectTimeout(cfg.connectTimeoutMs()))
        .connectingTo(connectOptions(cfg)).using(vertx).build();
  }

  public static PgConnectOptions connectOptions(AppConfig.Database cfg) {
    PgConnectOptions options = PgConnectOptions.fromUri(cfg.url());
    if (!cfg.user().isBlank()) {
      options.setUser(cfg.user());
    }
    if (!cfg.password().isBlank()) {
      options.setPassword(cfg.password());
    }
    return options.setCachePreparedStatements(true);
  }

  /** Applies the versioned migrations under {@code db/migration}; a no-op on an up-to-date schema. */
  public static Future<Integer> migrate(Vertx vertx, AppConfig.Database cfg) {
    PgConnectOptions o = connectOptions(cfg);
    String jdbc = "jdbc:postgresql://" + o.getHost() + ":" + o.getPort() + "/" + o.getDatabase();
    // Flyway speaks JDBC and blocks: it runs once at start-up, on a worker thread
    return vertx.executeBlocking(() -> {
      MigrateResult result = Flyway.configure()
          .dataSource(jdbc, o.getUser(), o.getPassword())
          .locations("classpath:db/migration")
          .connectRetries(3)
          .load()
          .migrate();
      LOG.info("database {}: {} migration(s) applied, schema at version {}", o.getDatabase(),
          result.migrationsExecuted, result.targetSchemaVersion);
      return result.migrationsExecuted;
    });
  }

  /** Readiness of PostgreSQL: the pool answers {@code SELECT 1} in time. */
  public static void registerHealth(HealthChecks checks, Pool pool) {
    // answered (KO) before the check's own timeout, which would make the endpoint answer 500
    checks.register("postgresql", 3000, promise -> pool.query("SELECT 1").execute()
        .timeout(2500, TimeUnit.MILLISECONDS)
        .onSuccess(rows -> promise.tryComplete(Status.OK()))
        .onFailure(e -> promise.tryComplete(Status.KO(new JsonObject().put("error", String.valueOf(e.getMessage()))))));
  }
}
