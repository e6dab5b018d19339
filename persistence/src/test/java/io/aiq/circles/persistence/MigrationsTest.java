package io.aiq.circles.persistence;

import static org.assertj.core.api.Assertions.assertThat;

import io.aiq.circles.config.AppConfig;
import io.aiq.circles.testing.PostgresFixture;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import java.sql.Connection;
import java.sql.ResultSet;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(VertxExtension.class)
class MigrationsTest {

  private static AppConfig.Database database(String url) {
    return new AppConfig.Database(url, "", "", 2, 16, 5000, true);
  }

  @Test
  void an_empty_database_gets_the_whole_schema(Vertx vertx) throws Exception {
    String url = PostgresFixture.createDatabase();

    int applied = Database.migrate(vertx, database(url)).await(60, TimeUnit.SECONDS);

    // every migration in the folder, whoever added it
    try (java.util.stream.Stream<java.nio.file.Path> files = java.nio.file.Files.list(
        java.nio.file.Path.of("src/main/resources/db/migration"))) {
      assertThat(applied).isEqualTo(files.filter(f -> f.getFileName().toString().matches("V\\d+__.*\\.sql")).count());
    }
    List<String> tables = new ArrayList<>();
    try (Connection c = PostgresFixture.connect(url);
         ResultSet rs = c.createStatement().executeQuery(
             "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1")) {
      while (rs.next()) {
        tables.add(rs.getString(1));
      }
    }
    assertThat(tables).contains("images", "jobs", "detections", "image_deletions", "deleted_jobs",
        "job_cancellations", "flyway_schema_history");
    try (Connection c = PostgresFixture.connect(url);
         ResultSet rs = c.createStatement().executeQuery("SELECT indexname FROM pg_indexes WHERE tablename = 'jobs'")) {
      List<String> indexes = new ArrayList<>();
      while (rs.next()) {
        indexes.add(rs.getString(1));
      }
      assertThat(indexes).contains("jobs_by_image", "jobs_pending", "jobs_succeeded_by_image", "jobs_by_created",
          "jobs_by_status_created");
    }
  }

  @Test
  void migrating_an_up_to_date_database_changes_nothing(Vertx vertx) throws Exception {
    String url = PostgresFixture.createDatabase();
    Database.migrate(vertx, database(url)).await(60, TimeUnit.SECONDS);
    try (Connection c = PostgresFixture.connect(url)) {
      c.createStatement().execute("INSERT INTO images (image_id, storage_ref, content_type, format, width, height,"
          + " size_bytes) VALUES ('" + "a".repeat(64) + "', 'aa/aa/x.png', 'image/png', 'png', 1, 1, 1)");
    }

    int applied = Database.migrate(vertx, database(url)).await(60, TimeUnit.SECONDS);

    assertThat(applied).isZero();
    try (Connection c = PostgresFixture.connect(url);
         ResultSet rs = c.createStatement().executeQuery("SELECT count(*) FROM images")) {
      rs.next();
      assertThat(rs.getInt(1)).as("data survives a restart's migration").isEqualTo(1);
    }
  }
}
