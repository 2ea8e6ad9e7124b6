package io.mqseal.examples;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq.DecryptingMessageListenerConcurrently;
import io.mqseal.rocketmq.EncryptingProducer;
import java.nio.charset.StandardCharsets;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * One producer-to-consumer run through the broker: a warm-up, then a number of messages sent
 * asynchronously and timed until the consumer has received the last one. With a cipher the run
 * encrypts through {@link EncryptingProducer} and decrypts through {@link
 * DecryptingMessageListenerConcurrently}; without one it sends plain messages.
 */
final class DemoRun {
  /** User property that the encrypted run seals inside the envelope. */
  static final String SEALED_PROPERTY = "customer-id";

  /** Plain user property that carries the positive-control marker. */
  static final String CONTROL_PROPERTY = "order-trace";

  private static final int IN_FLIGHT = 256;
  private static final int WARM_UP_MESSAGES = 200;
  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] FILLER =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,".toCharArray();

  /** Counts and timing of one run. */
  record Result(
      int expected,
      int sent,
      int received,
      int verified,
      int sendFailures,
      long elapsedNanos,
      long plainBytes) {
    /** Returns whether every message was sent, received once or more, and matched. */
    boolean complete() {
      return sent == expected && received == expected && verified == expected;
    }

    double messagesPerSecond() {
      return received / (elapsedNanos / 1e9);
    }

    double mebibytesPerSecond() {
      return plainBytes / (elapsedNanos / 1e9) / (1024 * 1024);
    }
  }

  /** One message to send and what the consumer must get back. */
  private record Expected(byte[] body, String sealedValue) {}

  private final DemoOptions options;
  private final int messages;
  private final String topic;
  private final String tag;
  private final String group;
  private final MqsealCipher cipher;
  private final Markers markers;
  private final String controlMarker;

  private final Map<String, Expected> expected = new ConcurrentHashMap<>();
  private final Map<String, Boolean> received = new ConcurrentHashMap<>();
  private final AtomicLong lastReceivedNanos = new AtomicLong();

  /**
   * @param messages how many messages to send and time, after the warm-up
   * @param tag tag of this run's messages; the consumer subscribes to it only, so runs can share a
   *     topic
   * @param cipher the cipher, or null for the unencrypted comparison
   * @param markers where the body and sealed-property markers come from
   * @param controlMarker value of the plain {@link #CONTROL_PROPERTY}, or null for none
   */
  DemoRun(
      DemoOptions options,
      int messages,
      String topic,
      String tag,
      String group,
      MqsealCipher cipher,
      Markers markers,
      String controlMarker) {
    this.options = options;
    this.messages = messages;
    this.topic = topic;
    this.tag = tag;
    this.group = group;
    this.cipher = cipher;
    this.markers = markers;
    this.controlMarker = controlMarker;
  }

  Result run() throws Exception {
    DefaultMQProducer underlying = new DefaultMQProducer(group + "-producer");
    underlying.setNamesrvAddr(options.namesrv);
    underlying.setSendMsgTimeout(10_000);
    EncryptingProducer encrypting =
        cipher == null
            ? null
            : EncryptingProducer.builder(underlying, cipher)
                .sealProperties(SEALED_PROPERTY)
                .build();

    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
    consumer.setNamesrvAddr(options.namesrv);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setPullBatchSize(64);
    consumer.subscribe(topic, tag);
    MessageListenerConcurrently listener =
        (messages, context) -> {
          messages.forEach(this::check);
          return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        };
    consumer.registerMessageListener(
        cipher == null
            ? listener
            : DecryptingMessageListenerConcurrently.builder(cipher, consumer, listener).build());

    underlying.start();
    consumer.start();
    try {
      List<String> warmUp = sendAll(encrypting, underlying, "warmup", WARM_UP_MESSAGES);
      awaitReceived(warmUp);

      long start = System.nanoTime();
      AtomicInteger failures = new AtomicInteger();
      List<String> keys = sendAll(encrypting, underlying, "msg", messages, failures);
      awaitReceived(keys);
      long end = lastReceivedNanos.get();

      int receivedCount = (int) keys.stream().filter(received::containsKey).count();
      int verifiedCount =
          (int) keys.stream().filter(key -> received.getOrDefault(key, false)).count();
      return new Result(
          messages,
          keys.size() - failures.get(),
          receivedCount,
          verifiedCount,
          failures.get(),
          Math.max(1, end - start),
          (long) messages * options.bodySize);
    } finally {
      consumer.shutdown();
      underlying.shutdown();
    }
  }

  private List<String> sendAll(
      EncryptingProducer encrypting, DefaultMQProducer plain, String prefix, int count)
      throws Exception {
    return sendAll(encrypting, plain, prefix, count, new AtomicInteger());
  }

  /** Sends {@code count} messages asynchronously with at most {@link #IN_FLIGHT} unanswered. */
  private List<String> sendAll(
      EncryptingProducer encrypting,
      DefaultMQProducer plain,
      String prefix,
      int count,
      AtomicInteger failures)
      throws Exception {
    Semaphore inFlight = new Semaphore(IN_FLIGHT);
    List<String> keys = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String key = prefix + "-" + i;
      Message message = newMessage(key, i);
      keys.add(key);
      inFlight.acquire();
      SendCallback callback =
          new SendCallback() {
            @Override
            public void onSuccess(SendResult result) {
              inFlight.release();
            }

            @Override
            public void onException(Throwable e) {
              failures.incrementAndGet();
              inFlight.release();
              System.err.println("demo: failed to send " + key + ": " + e);
            }
          };
      if (encrypting != null) {
        encrypting.send(message, callback);
      } else {
        plain.send(message, callback);
      }
    }
    inFlight.acquire(IN_FLIGHT);
    inFlight.release(IN_FLIGHT);
    return keys;
  }

  private Message newMessage(String key, int index) {
    String marker = markers.next();
    byte[] body = body(marker + " order #" + index + ": ", options.bodySize);
    Message message = new Message(topic, tag, key, body);
    String sealedValue = null;
    if (cipher != null) {
      sealedValue = markers.next();
      message.putUserProperty(SEALED_PROPERTY, sealedValue);
    }
    if (controlMarker != null) {
      message.putUserProperty(CONTROL_PROPERTY, controlMarker);
    }
    expected.put(key, new Expected(body, sealedValue));
    return message;
  }

  /** Records a delivery and whether its body and sealed property are the ones sent. */
  private void check(MessageExt message) {
    Expected sent = expected.get(message.getKeys());
    if (sent == null) {
      return;
    }
    boolean matches =
        Arrays.equals(sent.body(), message.getBody())
            && (sent.sealedValue() == null
                || sent.sealedValue().equals(message.getUserProperty(SEALED_PROPERTY)));
    received.merge(message.getKeys(), matches, Boolean::logicalAnd);
    lastReceivedNanos.accumulateAndGet(System.nanoTime(), Math::max);
  }

  private void awaitReceived(List<String> keys) throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.timeoutSeconds);
    while (System.nanoTime() < deadline) {
      if (keys.stream().allMatch(received::containsKey)) {
        return;
      }
      Thread.sleep(5);
    }
  }

  private static byte[] body(String head, int size) {
    StringBuilder text = new StringBuilder(size).append(head);
    while (text.length() < size) {
      text.append(FILLER[RANDOM.nextInt(FILLER.length)]);
    }
    text.setLength(size);
    return text.toString().getBytes(StandardCharsets.US_ASCII);
  }
}
