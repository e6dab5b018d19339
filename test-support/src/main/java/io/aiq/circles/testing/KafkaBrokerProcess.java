package io.aiq.circles.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.common.Uuid;

/**
 * A single-node KRaft broker in its own process, from the Kafka artifacts on this JVM's class path,
 * that a test can kill and start again on the same ports and data, as an operator or a crash would.
 * (The shared broker of {@link KafkaFixture} runs in the test's JVM and cannot be restarted.)
 */
public final class KafkaBrokerProcess implements AutoCloseable {
  private final Path dir;
  private final int port;
  private final Path properties;
  private final Path log;
  private Process process;

  private KafkaBrokerProcess(Path dir, int port, Path properties) {
    this.dir = dir;
    this.port = port;
    this.properties = properties;
    this.log = dir.resolve("kafka.log");
  }

  /** Formats a fresh data folder under {@code dir} and starts the broker; returns when it answers. */
  public static KafkaBrokerProcess start(Path dir) {
    try {
      Files.createDirectories(dir);
      int port = TestEnv.freePort();
      int controller = TestEnv.freePort();
      Path properties = dir.resolve("server.properties");
      Files.writeString(properties, String.join("\n", List.of(
          "process.roles=broker,controller",
          "node.id=1",
          "controller.quorum.voters=1@127.0.0.1:" + controller,
          "listeners=PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controller,
          "advertised.listeners=PLAINTEXT://127.0.0.1:" + port,
          "controller.listener.names=CONTROLLER",
          "inter.broker.listener.name=PLAINTEXT",
          "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
          "log.dirs=" + dir.resolve("data"),
          "auto.create.topics.enable=false",
          "offsets.topic.replication.factor=1",
          "offsets.topic.num.partitions=4",
          "transaction.state.log.replication.factor=1",
          "transaction.state.log.min.isr=1",
          "group.initial.rebalance.delay.ms=0")) + "\n");
      KafkaBrokerProcess broker = new KafkaBrokerProcess(dir, port, properties);
      Process format = broker.java("kafka.tools.StorageTool", "format", "-t", Uuid.randomUuid().toString(), "-c",
          properties.toString());
      if (!format.waitFor(60, TimeUnit.SECONDS) || format.exitValue() != 0) {
        throw new IllegalStateException("formatting the broker's storage failed:\n" + broker.log());
      }
      broker.restart();
      return broker;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  public String bootstrap() {
    return "127.0.0.1:" + port;
  }

  /** SIGKILL, as a crashed or fenced broker host. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  /** Starts the broker again on its ports and data; returns when it answers metadata requests. */
  public void restart() throws IOException, InterruptedException {
    process = java("kafka.Kafka", properties.toString());
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(90);
    Properties admin = new Properties();
    admin.put("bootstrap.servers", bootstrap());
    admin.put("request.timeout.ms", "3000");
    admin.put("default.api.timeout.ms", "5000");
    while (System.nanoTime() < deadline) {
      if (!process.isAlive()) {
        throw new IllegalStateException("the broker exited with " + process.exitValue() + ":\n" + log());
      }
      if (listening()) {
        try (Admin a = Admin.create(admin)) {
          a.describeCluster().nodes().get(5, TimeUnit.SECONDS);
          return;
        } catch (Exception e) {
          // not ready yet
        }
      }
      Thread.sleep(200);
    }
    throw new IllegalStateException("the broker did not start within 90 s:\n" + log());
  }

  private boolean listening() {
    try (Socket s = new Socket()) {
      s.connect(new InetSocketAddress("127.0.0.1", port), 500);
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  private Process java(String mainClass, String... args) throws IOException {
    String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
    List<String> command = new java.util.ArrayList<>(List.of(java, "-Xmx256m", "-cp", System.getProperty("java.class.path"),
        mainClass));
    command.addAll(List.of(args));
    return new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true)
        .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile())).start();
  }

  public String log() {
    try {
      String all = Files.exists(log) ? Files.readString(log) : "";
      return all.length() > 8000 ? all.substring(all.length() - 8000) : all;
    } catch (IOException e) {
      return "(log unreadable: " + e + ")";
    }
  }

  @Override
  public void close() throws InterruptedException {
    if (process != null && process.isAlive()) {
      kill();
    }
  }
}
