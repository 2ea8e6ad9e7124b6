package io.mqseal.rocketmq5;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.apis.consumer.ConsumeResult;
import org.apache.rocketmq.client.apis.consumer.MessageListener;
import org.apache.rocketmq.client.apis.message.MessageView;

/** A listener that records what it receives, by the first message key the test set. */
final class Inbox implements MessageListener {
  /** One delivery to the application's listener. */
  record Delivery(
      String key,
      String topic,
      byte[] body,
      Map<String, String> properties,
      String messageGroup,
      Long deliveryTimestamp,
      boolean decryptedView) {}

  private final Map<String, List<Delivery>> byKey = new ConcurrentHashMap<>();
  private final List<Delivery> all = new CopyOnWriteArrayList<>();

  @Override
  public ConsumeResult consume(MessageView view) {
    String key = view.getKeys().isEmpty() ? "" : view.getKeys().iterator().next();
    Delivery delivery =
        new Delivery(
            key,
            view.getTopic(),
            TestClients.bytes(view.getBody()),
            Map.copyOf(view.getProperties()),
            view.getMessageGroup().orElse(null),
            view.getDeliveryTimestamp().orElse(null),
            view instanceof DecryptedMessageView);
    byKey.computeIfAbsent(key, k -> new CopyOnWriteArrayList<>()).add(delivery);
    all.add(delivery);
    return ConsumeResult.SUCCESS;
  }

  List<Delivery> get(String key) {
    return byKey.getOrDefault(key, List.of());
  }

  Delivery first(String key) {
    List<Delivery> deliveries = get(key);
    return deliveries.isEmpty() ? null : deliveries.get(0);
  }

  /** Returns every delivery in the order the listener saw them. */
  List<Delivery> all() {
    return List.copyOf(all);
  }

  /** Waits until every key has a delivery; returns the keys still missing. */
  List<String> await(Collection<String> keys, Duration timeout) throws InterruptedException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      List<String> missing = new ArrayList<>();
      for (String key : keys) {
        if (get(key).isEmpty()) {
          missing.add(key);
        }
      }
      if (missing.isEmpty() || System.nanoTime() > deadline) {
        return missing;
      }
      Thread.sleep(100);
    }
  }
}
