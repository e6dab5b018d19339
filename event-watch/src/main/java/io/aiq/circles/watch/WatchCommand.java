package io.aiq.circles.watch;

import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Callable;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code just watch}: prints the pipeline's detection events as they happen, one line each (or the raw
 * JSON), the way another team's consumer would read them: a plain Kafka consumer of the public topics,
 * routing on the CloudEvents {@code ce_type} header.
 *
 * <p>Without {@code --group} it reads in a throwaway consumer group and commits nothing, like
 * {@code kafka-console-consumer}; with one, it commits what it printed, so a restart carries on there.
 */
@Command(name = "watch", mixinStandardHelpOptions = true,
    description = "Prints AIQ Circles detection events as they happen (aiq.detections.completed; --all: every topic).")
public final class WatchCommand implements Callable<Integer> {
  /** The public topics' names (the suffixes after a deployment's kafka.topic-prefix). */
  static final String DETECTIONS_COMPLETED = "aiq.detections.completed";
  static final List<String> ALL_TOPICS = List.of("aiq.images.submitted", "aiq.detections.started",
      DETECTIONS_COMPLETED, "aiq.detections.failed", "aiq.images.deleted", "aiq.jobs.cancelled", "aiq.dlq");

  @Option(names = "--bootstrap", description = "Kafka brokers (default: $AIQ_KAFKA_BOOTSTRAP, else ${DEFAULT-VALUE})",
      defaultValue = "${env:AIQ_KAFKA_BOOTSTRAP:-127.0.0.1:9092}")
  String bootstrap;

  @Option(names = "--topic-prefix", description = "the deployment's kafka.topic-prefix (default: $AIQ_KAFKA_TOPIC_PREFIX, else none)",
      defaultValue = "${env:AIQ_KAFKA_TOPIC_PREFIX:-}")
  String topicPrefix;

  @Option(names = "--all", description = "every topic, not only aiq.detections.completed")
  boolean all;

  @Option(names = "--json", description = "print each record's value as it is (one JSON document a line)")
  boolean json;

  @Option(names = "--from-beginning", description = "start at the oldest retained event, not at the next one")
  boolean fromBeginning;

  @Option(names = "--group", description = "a consumer group of your own: offsets are committed and a restart resumes")
  String group;

  @Option(names = "--max-events", description = "stop after this many events (default: run until Ctrl-C)")
  long maxEvents = Long.MAX_VALUE;

  private final PrintWriter out;
  private final AtomicBoolean stopped = new AtomicBoolean();
  private volatile KafkaConsumer<String, String> consumer;

  public WatchCommand() {
    this(new PrintWriter(System.out, true, StandardCharsets.UTF_8));
  }

  WatchCommand(PrintWriter out) {
    this.out = out;
  }

  public static void main(String[] args) {
    WatchCommand command = new WatchCommand();
    Thread main = Thread.currentThread();
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      command.stop();
      try {
        main.join(5_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }));
    System.exit(new CommandLine(command).execute(args));
  }

  List<String> topics() {
    String p = topicPrefix == null ? "" : topicPrefix;
    return (all ? ALL_TOPICS : List.of(DETECTIONS_COMPLETED)).stream().map(t -> p + t).toList();
  }

  Properties consumerProperties() {
    Properties p = new Properties();
    p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap);
    p.put(ConsumerConfig.GROUP_ID_CONFIG, group != null ? group : "aiq-watch-" + UUID.randomUUID());
    p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, String.valueOf(group != null));
    p.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
    p.put(ConsumerConfig.CLIENT_ID_CONFIG, "aiq-watch");
    // a topic not created yet (nothing uploaded) is waited for, not an error
    p.put(ConsumerConfig.ALLOW_AUTO_CREATE_TOPICS_CONFIG, "false");
    return p;
  }

  /** Ends the loop from another thread (Ctrl-C, a test): the consumer leaves its group cleanly. */
  void stop() {
    stopped.set(true);
    KafkaConsumer<String, String> c = consumer;
    if (c != null) {
      c.wakeup();
    }
  }

  @Override
  public Integer call() {
    List<String> topics = topics();
    long printed = 0;
    try (KafkaConsumer<String, String> c =
             new KafkaConsumer<>(consumerProperties(), new StringDeserializer(), new StringDeserializer())) {
      consumer = c;
      if (stopped.get()) {
        return 0;
      }
      c.subscribe(topics);
      System.err.println("watching " + String.join(", ", topics) + " on " + bootstrap
          + (fromBeginning ? " from the beginning" : " from now") + " (Ctrl-C ends)");
      while (!stopped.get() && printed < maxEvents) {
        for (ConsumerRecord<String, String> r : c.poll(Duration.ofMillis(500))) {
          out.println(json ? r.value() : line(r));
          if (++printed >= maxEvents) {
            break;
          }
        }
      }
    } catch (WakeupException e) {
      // stop() during a poll: the normal end
    } finally {
      out.flush();
    }
    return 0;
  }

  private String line(ConsumerRecord<String, String> r) {
    Map<String, String> headers = new HashMap<>();
    for (Header h : r.headers()) {
      headers.put(h.key(), h.value() == null ? "" : new String(h.value(), StandardCharsets.UTF_8));
    }
    String prefix = topicPrefix == null ? "" : topicPrefix;
    String suffix = r.topic().startsWith(prefix) ? r.topic().substring(prefix.length()) : r.topic();
    return EventLine.format(suffix, r.key(), headers, r.value());
  }
}
