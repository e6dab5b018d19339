package io.aiq.circles.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL server of a test's own, that the test can stop and start again: the throwaway
 * cluster of {@code scripts/postgres.sh} (initdb + pg_ctl from the installed server binaries), in a
 * folder of its own on a free port. (The shared server of {@link PostgresFixture} must stay up.)
 */
public final class PostgresProcess implements AutoCloseable {
  private final Path script;
  private final Path devDir;
  private final int port;
  private String url;

  private PostgresProcess(Path script, Path devDir, int port) {
    this.script = script;
    this.devDir = devDir;
    this.port = port;
  }

  /** Whether this checkout has the script and the script can make a throwaway cluster here. */
  public static boolean available() {
    Path script = script();
    return script != null && run(script, null, 0, "check").exit() == 0;
  }

  public static PostgresProcess start() {
    try {
      Path dir = Path.of(System.getProperty("java.io.tmpdir"), "aiq-pgtest-" + UUID.randomUUID());
      Files.createDirectories(dir);
      // the server runs as the user postgres when we are root: it must reach this folder
      Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x"));
      PostgresProcess pg = new PostgresProcess(script(), dir, TestEnv.freePort());
      pg.startAgain();
      return pg;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  public String url() {
    return url;
  }

  /** {@code pg_ctl stop -m fast}: connections are ended, the server goes down. */
  public void stop() {
    Result r = run(script, devDir, port, "stop");
    if (r.exit() != 0) {
      throw new IllegalStateException("scripts/postgres.sh stop failed:\n" + r.output());
    }
  }

  /** Starts the stopped server again, on the same port and data. */
  public void startAgain() {
    Result r = run(script, devDir, port, "ensure");
    String line = r.output().lines().filter(l -> l.startsWith("export AIQ_DATABASE_URL=")).findFirst()
        .orElseThrow(() -> new IllegalStateException("scripts/postgres.sh ensure failed:\n" + r.output()));
    url = line.substring("export AIQ_DATABASE_URL=".length()).trim();
  }

  @Override
  public void close() {
    stop();
  }

  private record Result(int exit, String output) {
  }

  private static Result run(Path script, Path devDir, int port, String command) {
    try {
      ProcessBuilder builder = new ProcessBuilder("bash", script.toString(), command).redirectErrorStream(true);
      builder.environment().remove("AIQ_DATABASE_URL");
      builder.environment().put("AIQ_PG_FORCE_LOCAL", "1");
      if (devDir != null) {
        builder.environment().put("AIQ_DEV_DIR", devDir.toString());
        builder.environment().put("AIQ_PG_PORT", String.valueOf(port));
      }
      Process p = builder.start();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      if (!p.waitFor(120, TimeUnit.SECONDS)) {
        p.destroyForcibly();
        return new Result(-1, out + "\n(timed out)");
      }
      return new Result(p.exitValue(), out);
    } catch (IOException e) {
      return new Result(-1, e.toString());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Result(-1, e.toString());
    }
  }

  /** scripts/postgres.sh of this checkout: found from the working directory upwards. */
  private static Path script() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("scripts/postgres.sh");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    return null;
  }
}
