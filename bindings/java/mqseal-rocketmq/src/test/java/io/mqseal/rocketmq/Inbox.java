package io.mqseal.rocketmq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Messages a test listener received, by the message key the test set. Bodies are kept as SHA-256
 * digests, so megabyte bodies do not pile up in the heap.
 */
final class Inbox {
  /** One delivery to the application's listener. */
  record Delivery(
      String key,
      String topic,
      int bodyLength,
      String bodySha256,
      Map<String, String> properties,
      int reconsumeTimes,
      long receivedAtMillis,
      long sequence) {}

  private final Map<String, List<Delivery>> byKey = new ConcurrentHashMap<>();
  private final AtomicLong sequence = new AtomicLong();

  void add(MessageExt message) {
    byte[] body = message.getBody();
    Delivery delivery =
        new Delivery(
            message.getKeys(),
            message.getTopic(),
            body.length,
            TestClients.sha256(body),
            Map.copyOf(message.getProperties()),
            message.getReconsumeTimes(),
            System.currentTimeMillis(),
            sequence.incrementAndGet());
    byKey
        .computeIfAbsent(String.valueOf(message.getKeys()), key -> new CopyOnWriteArrayList<>())
        .add(delivery);
  }

  void addAll(Collection<MessageExt> messages) {
    messages.forEach(this::add);
  }

  List<Delivery> get(String key) {
    return byKey.getOrDefault(key, List.of());
  }

  /** Returns the first delivery of {@code key}, or null. */
  Delivery first(String key) {
    List<Delivery> deliveries = get(key);
    return deliveries.isEmpty() ? null : deliveries.get(0);
  }

  /**
   * Waits until every key has at least {@code count} deliveries; returns the keys still missing.
   */
  List<String> await(Collection<String> keys, int count, Duration timeout)
      throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> missing = new ArrayList<>();
      for (String key : keys) {
        if (get(key).size() < count) {
          missing.add(key);
        }
      }
      if (missing.isEmpty() || System.nanoTime() > deadline) {
        return missing;
      }
      Thread.sleep(100);
    }
  }

  List<String> await(Collection<String> keys, Duration timeout) throws InterruptedException {
    return await(keys, 1, timeout);
  }
}
