package io.aiq.circles.testing;

import java.net.URI;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.UUID;

/**
 * A real PostgreSQL database per test class: created empty on the server named by
 * {@code AIQ_TEST_DATABASE_URL} or {@code AIQ_DATABASE_URL} (default the local server on
 * 127.0.0.1:5432, as {@code scripts/postgres.sh ensure} provides), dropped when the JVM ends.
 */
public final class PostgresFixture {
  private static final List<String> CREATED = new ArrayList<>();
  private static boolean hookInstalled;

  private PostgresFixture() {
  }

  /** The URL of the server, as {@code postgresql://user[:password]@host:port/db}. */
  public static String serverUrl() {
    for (String name : new String[] {"AIQ_TEST_DATABASE_URL", "AIQ_DATABASE_URL"}) {
      String v = System.getenv(name);
      if (v != null && !v.isBlank()) {
        return v;
      }
    }
    return "postgresql://postgres@127.0.0.1:5432/postgres";
  }

  /** Creates a new, empty database and returns its {@code postgresql://} URL. */
  public static synchronized String createDatabase() {
    String name = "aiq_test_" + UUID.randomUUID().toString().replace("-", "").substring(0, 16).toLowerCase(Locale.ROOT);
    try (Connection c = admin(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new IllegalStateException("PostgreSQL is not reachable at " + redacted(serverUrl())
          + " (" + e.getMessage() + "). Run the tests with `just test`, which starts or finds one, "
          + "or set AIQ_DATABASE_URL.", e);
    }
    CREATED.add(name);
    if (!hookInstalled) {
      hookInstalled = true;
      Runtime.getRuntime().addShutdownHook(new Thread(PostgresFixture::dropAll));
    }
    URI u = URI.create(serverUrl());
    return u.getScheme() + "://" + (u.getRawUserInfo() == null ? "" : u.getRawUserInfo() + "@")
        + u.getHost() + ":" + (u.getPort() < 0 ? 5432 : u.getPort()) + "/" + name;
  }

  /** A JDBC connection to a database of the test server, for assertions on stored rows. */
  public static Connection connect(String postgresUrl) throws SQLException {
    URI u = URI.create(postgresUrl);
    String user = "postgres";
    String password = null;
    if (u.getUserInfo() != null) {
      String[] parts = u.getUserInfo().split(":", 2);
      user = parts[0];
      password = parts.length > 1 ? parts[1] : null;
    }
    String jdbc = "jdbc:postgresql://" + u.getHost() + ":" + (u.getPort() < 0 ? 5432 : u.getPort()) + u.getPath();
    return DriverManager.getConnection(jdbc, user, password);
  }

  /** The rows of a query with one parameter, each as column name → value (for assertions on stored rows). */
  public static List<java.util.Map<String, Object>> rows(String postgresUrl, String sql, Object param) throws SQLException {
    try (Connection c = connect(postgresUrl); java.sql.PreparedStatement s = c.prepareStatement(sql)) {
      s.setObject(1, param);
      try (java.sql.ResultSet rs = s.executeQuery()) {
        List<java.util.Map<String, Object>> out = new ArrayList<>();
        while (rs.next()) {
          java.util.Map<String, Object> row = new java.util.LinkedHashMap<>();
          for (int i = 1; i <= rs.getMetaData().getColumnCount(); i++) {
            row.put(rs.getMetaData().getColumnName(i), rs.getObject(i));
          }
          out.add(row);
        }
        return out;
      }
    }
  }

  private static Connection admin() throws SQLException {
    URI u = URI.create(serverUrl());
    return connect(u.getScheme() + "://" + (u.getRawUserInfo() == null ? "" : u.getRawUserInfo() + "@")
        + u.getHost() + ":" + (u.getPort() < 0 ? 5432 : u.getPort()) + "/postgres");
  }

  private static void dropAll() {
    try (Connection c = admin(); Statement s = c.createStatement()) {
      for (String name : CREATED) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      }
    } catch (SQLException e) {
      // the server went away before us: nothing left to clean
    }
  }

  private static String redacted(String url) {
    return url.replaceAll(":[^:@/]+@", ":***@");
  }
}
