package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.consumer.MessageListener;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageBuilder;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Permanent failures on the push consumer go to the dead-letter queue at once, with the body byte
 * for byte as it was stored.
 */
@Order(3)
@ExtendWith(RocketMqProxy.class)
class DeadLetterTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path dir;

  @Test
  void permanentFailuresDeadLetteredAtOnce() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    Path otherKeyring = dir.resolve("other-keyring.txt");
    MqsealKeyring.generate(otherKeyring, "archive");
    String run = TestClients.randomHex(4);
    String tampered = "tampered-" + run;
    String plaintext = "plaintext-" + run;
    String unknownKey = "unknownkey-" + run;
    String valid = "valid-" + run;
    Map<String, byte[]> stored = new HashMap<>();
    byte[] unknownKeyPlaintext = TestClients.body(300);
    Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    Inbox inbox = new Inbox();

    try (MqsealCipher cipher = TestClients.cipher(keyring);
        MqsealCipher otherCipher =
            MqsealCipher.builder().keyringPath(otherKeyring).keyIds("archive").build();
        Producer producer = TestClients.producer(TestNames.DEAD_LETTER)) {
      DecryptingMessageListener decrypting =
          DecryptingMessageListener.builder(cipher, inbox).build();
      MessageListener counting =
          view -> {
            attempts
                .computeIfAbsent(view.getKeys().iterator().next(), k -> new AtomicInteger())
                .incrementAndGet();
            return decrypting.consume(view);
          };
      try (PushConsumer consumer =
          TestClients.pushConsumer(TestNames.DEAD_LETTER_GROUP, TestNames.DEAD_LETTER)
              .setMessageListener(counting)
              .build()) {
        decrypting.attach(consumer);
        EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();

        Message encrypted = facade.encrypt(message(tampered, TestClients.body(500)));
        byte[] envelope = TestClients.bytes(encrypted.getBody());
        envelope[envelope.length - 1] ^= 0x01;
        producer.send(copyWithBody(encrypted, envelope));
        stored.put(tampered, envelope);

        // Sent unencrypted on purpose: the at-rest scan must find this marker.
        byte[] plain = Markers.control().getBytes(StandardCharsets.UTF_8);
        producer.send(message(plaintext, plain));
        stored.put(plaintext, plain);

        Message foreign =
            EncryptingProducer.builder(producer, otherCipher)
                .build()
                .encrypt(message(unknownKey, unknownKeyPlaintext));
        producer.send(foreign);
        stored.put(unknownKey, TestClients.bytes(foreign.getBody()));

        byte[] validBody = TestClients.body(64);
        facade.send(message(valid, validBody));

        List<String> missing = inbox.await(List.of(valid), WAIT);
        assertTrue(missing.isEmpty(), "the valid message was not delivered");
        assertArrayEquals(validBody, inbox.first(valid).body());
        awaitAttempts(attempts, stored.keySet());

        Map<String, MessageView> dead =
            readDeadLetters(TestNames.DEAD_LETTER_GROUP, TestNames.DEAD_LETTER_READER, stored.keySet());
        for (Map.Entry<String, byte[]> entry : stored.entrySet()) {
          String key = entry.getKey();
          assertArrayEquals(
              entry.getValue(),
              TestClients.bytes(dead.get(key).getBody()),
              key + ": the dead-letter body differs from the stored body");
          assertEquals(1, attempts.get(key).get(), key + ": delivered more than once");
          assertTrue(inbox.get(key).isEmpty(), key + ": handed to the application");
        }
      }
    }

    // The dead-lettered message decrypts once its key is available, with the origin topic named.
    try (MqsealCipher otherCipher =
            MqsealCipher.builder().keyringPath(otherKeyring).keyIds("archive").build();
        DecryptingSimpleConsumer reader =
            DecryptingSimpleConsumer.builder(
                    deadLetterConsumer(
                        TestNames.DEAD_LETTER_GROUP, TestNames.group("redrive_" + run)),
                    otherCipher)
                .logicalTopic(
                    TestNames.deadLetterTopic(TestNames.DEAD_LETTER_GROUP), TestNames.DEAD_LETTER)
                .build()) {
      DecryptedMessageView redriven = null;
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (redriven == null && System.nanoTime() < deadline) {
        for (DecryptedMessageView view : reader.receive(16, Duration.ofSeconds(30))) {
          if (view.getKeys().contains(unknownKey)) {
            redriven = view;
          }
        }
      }
      assertTrue(redriven != null, "the unknown-key message was not read back from the DLQ");
      assertArrayEquals(unknownKeyPlaintext, redriven.bodyBytes());
    }
  }

  @Test
  void withoutForwardProxyDeadLettersAfterMaxAttempts() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    String key = "late-" + TestClients.randomHex(4);
    Map<String, AtomicInteger> attempts = new ConcurrentHashMap<>();
    Inbox inbox = new Inbox();
    byte[] envelope;
    try (MqsealCipher cipher = TestClients.cipher(keyring);
        Producer producer = TestClients.producer(TestNames.DEAD_LETTER_LATE)) {
      DecryptingMessageListener decrypting =
          DecryptingMessageListener.builder(cipher, inbox).deadLetterImmediately(false).build();
      MessageListener counting =
          view -> {
            attempts
                .computeIfAbsent(view.getKeys().iterator().next(), k -> new AtomicInteger())
                .incrementAndGet();
            return decrypting.consume(view);
          };
      try (PushConsumer consumer =
          TestClients.pushConsumer(TestNames.DEAD_LETTER_LATE_GROUP, TestNames.DEAD_LETTER_LATE)
              .setMessageListener(counting)
              .build()) {
        decrypting.attach(consumer);
        Message encrypted =
            EncryptingProducer.builder(producer, cipher)
                .build()
                .encrypt(
                    TestClients.PROVIDER
                        .newMessageBuilder()
                        .setTopic(TestNames.DEAD_LETTER_LATE)
                        .setKeys(key)
                        .setBody(TestClients.body(400))
                        .build());
        envelope = TestClients.bytes(encrypted.getBody());
        envelope[envelope.length / 2] ^= 0x01;
        producer.send(copyWithBody(encrypted, envelope));

        Map<String, MessageView> dead =
            readDeadLetters(
                TestNames.DEAD_LETTER_LATE_GROUP,
                TestNames.group("latereader_" + TestClients.randomHex(2)),
                List.of(key));
        assertArrayEquals(envelope, TestClients.bytes(dead.get(key).getBody()));
      }
    }
    // The proxy dead-letters a message once it has used the group's maximum delivery attempts,
    // retryMaxTimes + 1 (RocketMQ 5.3.3 PopMessageResultFilterImpl).
    assertEquals(TestNames.DEAD_LETTER_RETRY_MAX + 1, attempts.get(key).get());
    assertTrue(inbox.get(key).isEmpty(), "handed to the application");
  }

  private static void awaitAttempts(Map<String, AtomicInteger> attempts, Iterable<String> keys)
      throws InterruptedException {
    long deadline = System.nanoTime() + WAIT.toNanos();
    for (String key : keys) {
      while (!attempts.containsKey(key) && System.nanoTime() < deadline) {
        Thread.sleep(100);
      }
      assertTrue(attempts.containsKey(key), key + " was never delivered");
    }
  }

  /** Reads the group's dead-letter queue with a plain simple consumer until every key is there. */
  private static Map<String, MessageView> readDeadLetters(
      String deadGroup, String readerGroup, Iterable<String> keys) throws Exception {
    Map<String, MessageView> found = new HashMap<>();
    try (SimpleConsumer reader = deadLetterConsumer(deadGroup, readerGroup)) {
      long deadline = System.nanoTime() + WAIT.toNanos();
      while (System.nanoTime() < deadline && !containsAll(found, keys)) {
        for (MessageView view : reader.receive(16, Duration.ofSeconds(30))) {
          for (String key : view.getKeys()) {
            found.put(key, view);
          }
        }
      }
    }
    for (String key : keys) {
      assertTrue(found.containsKey(key), key + " is not in the dead-letter queue");
    }
    return found;
  }

  private static boolean containsAll(Map<String, MessageView> found, Iterable<String> keys) {
    for (String key : keys) {
      if (!found.containsKey(key)) {
        return false;
      }
    }
    return true;
  }

  /**
   * Subscribes {@code readerGroup} to the dead-letter topic of {@code deadGroup}, retrying while the
   * broker has not yet published the topic's route.
   */
  private static SimpleConsumer deadLetterConsumer(String deadGroup, String readerGroup)
      throws Exception {
    String topic = TestNames.deadLetterTopic(deadGroup);
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (true) {
      try {
        return TestClients.simpleConsumer(readerGroup, topic);
      } catch (ClientException | IllegalStateException e) {
        // The client fails to start with IllegalStateException when the topic has no route.
        if (System.nanoTime() > deadline) {
          throw e;
        }
        Thread.sleep(1000);
      }
    }
  }

  private static Message message(String key, byte[] body) {
    return TestClients.PROVIDER
        .newMessageBuilder()
        .setTopic(TestNames.DEAD_LETTER)
        .setKeys(key)
        .setBody(body)
        .build();
  }

  private static Message copyWithBody(Message encrypted, byte[] body) {
    MessageBuilder builder =
        TestClients.PROVIDER
            .newMessageBuilder()
            .setTopic(encrypted.getTopic())
            .setKeys(encrypted.getKeys().toArray(new String[0]))
            .setBody(body);
    encrypted.getProperties().forEach(builder::addProperty);
    return builder.build();
  }
}
