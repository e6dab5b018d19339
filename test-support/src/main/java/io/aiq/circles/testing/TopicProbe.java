package io.aiq.circles.testing;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.Future;
import java.util.function.Predicate;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;

/**
 * What an outside team would do with our topics: a plain Kafka client that writes raw records
 * (poison messages included) and reads what the pipeline published.
 */
public final class TopicProbe {
  private TopicProbe() {
  }

  /**
   * Every record on the topic now, read from the start to the end offsets of this moment: what was
   * acknowledged before the call is all there, so an event missing from it was never published.
   */
  public static List<ConsumerRecord<String, String>> recordsNow(String topic, Duration timeout) {
    Properties p = KafkaFixture.clientProperties();
    p.put("enable.auto.commit", "false");
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
        new StringDeserializer())) {
      List<TopicPartition> partitions = consumer.partitionsFor(topic, Duration.ofSeconds(10)).stream()
          .map(i -> new TopicPartition(topic, i.partition())).toList();
      consumer.assign(partitions);
      consumer.seekToBeginning(partitions);
      Map<TopicPartition, Long> end = new HashMap<>(consumer.endOffsets(partitions, Duration.ofSeconds(10)));
      List<ConsumerRecord<String, String>> out = new ArrayList<>();
      long deadline = System.nanoTime() + timeout.toNanos();
      while (end.entrySet().stream().anyMatch(e -> consumer.position(e.getKey()) < e.getValue())) {
        if (System.nanoTime() > deadline) {
          throw new AssertionError("could not read " + topic + " to its end offsets " + end);
        }
        consumer.poll(Duration.ofMillis(200)).forEach(r -> {
          if (r.offset() < end.get(new TopicPartition(r.topic(), r.partition()))) {
            out.add(r);
          }
        });
      }
      return out;
    }
  }

  public static RecordMetadata send(String topic, String key, String value) {
    Properties p = KafkaFixture.clientProperties();
    try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(), new StringSerializer())) {
      Future<RecordMetadata> f = producer.send(new ProducerRecord<>(topic, key, value));
      return f.get();
    } catch (Exception e) {
      throw new IllegalStateException("could not send to " + topic, e);
    }
  }

  /** Reads the topic from the start until {@code count} records match, or fails after the timeout. */
  public static List<ConsumerRecord<String, String>> await(String topic, int count,
                                                           Predicate<ConsumerRecord<String, String>> filter,
                                                           Duration timeout) {
    Properties p = KafkaFixture.clientProperties();
    p.put("group.id", "probe-" + UUID.randomUUID());
    p.put("auto.offset.reset", "earliest");
    p.put("enable.auto.commit", "false");
    List<ConsumerRecord<String, String>> found = new ArrayList<>();
    try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer())) {
      consumer.subscribe(List.of(topic));
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline && found.size() < count) {
        for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
          if (filter.test(r)) {
            found.add(r);
          }
        }
      }
    }
    if (found.size() < count) {
      throw new AssertionError("expected " + count + " matching records on " + topic + " within " + timeout
          + ", found " + found.size());
    }
    return found;
  }

  public static List<ConsumerRecord<String, String>> await(String topic, int count, Duration timeout) {
    return await(topic, count, r -> true, timeout);
  }

  public static String header(ConsumerRecord<?, ?> record, String name) {
    Header h = record.headers().lastHeader(name);
    return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
  }

  /** Waits until a consumer group has committed past {@code offset} on a partition: the record is processed. */
  public static void awaitCommittedPast(String group, String topic, int partition, long offset, Duration timeout) {
    Properties p = KafkaFixture.clientProperties();
    try (org.apache.kafka.clients.admin.Admin admin = org.apache.kafka.clients.admin.Admin.create(p)) {
      TopicPartition tp = new TopicPartition(topic, partition);
      long deadline = System.nanoTime() + timeout.toNanos();
      while (System.nanoTime() < deadline) {
        var committed = admin.listConsumerGroupOffsets(group).partitionsToOffsetAndMetadata().get().get(tp);
        if (committed != null && committed.offset() > offset) {
          return;
        }
        Thread.sleep(100);
      }
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
    throw new AssertionError("group " + group + " did not commit past " + topic + "-" + partition + "@" + offset
        + " within " + timeout);
  }
}
