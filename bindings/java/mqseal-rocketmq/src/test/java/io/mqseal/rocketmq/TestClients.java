package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import io.mqseal.rocketmq.common.testing.Markers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.util.HexFormat;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;

/** Clients, keyrings and bodies for tests against the broker of {@link RocketMqBroker}. */
final class TestClients {
  static final String KEY_NAME = "orders";

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] FILLER =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,".toCharArray();

  private TestClients() {}

  static DefaultMQProducer producer(String group) {
    DefaultMQProducer producer = new DefaultMQProducer(group);
    configure(producer);
    return producer;
  }

  static TransactionMQProducer transactionProducer(String group) {
    TransactionMQProducer producer = new TransactionMQProducer(group);
    configure(producer);
    return producer;
  }

  private static void configure(DefaultMQProducer producer) {
    producer.setNamesrvAddr(RocketMqBroker.get().namesrvAddr());
    producer.setSendMsgTimeout(15_000);
    producer.setRetryTimesWhenSendFailed(2);
    producer.setPollNameServerInterval(1_000);
  }

  /** Returns a push consumer that starts at the first offset of every queue. */
  static DefaultMQPushConsumer pushConsumer(String group) {
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
    consumer.setNamesrvAddr(RocketMqBroker.get().namesrvAddr());
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setPollNameServerInterval(1_000);
    consumer.setConsumeThreadMin(2);
    consumer.setConsumeThreadMax(4);
    return consumer;
  }

  /**
   * Returns a started push consumer of {@code topic} whose {@link
   * DecryptingMessageListenerConcurrently} hands every decrypted message to {@code inbox}.
   */
  static DefaultMQPushConsumer decryptingConsumer(
      String group, String topic, MqsealCipher cipher, Inbox inbox, DecryptionMetricsHook metrics)
      throws Exception {
    DefaultMQPushConsumer consumer = TestClients.pushConsumer(group);
    consumer.subscribe(topic, "*");
    consumer.registerConsumeMessageHook(metrics);
    consumer.registerMessageListener(
        DecryptingMessageListenerConcurrently.builder(
                cipher,
                consumer,
                (messages, context) -> {
                  inbox.addAll(messages);
                  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                })
            .build());
    consumer.start();
    return consumer;
  }

  static DefaultLitePullConsumer litePullConsumer(String group) {
    DefaultLitePullConsumer consumer = new DefaultLitePullConsumer(group);
    consumer.setNamesrvAddr(RocketMqBroker.get().namesrvAddr());
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setPollNameServerInterval(1_000);
    consumer.setAutoCommit(true);
    return consumer;
  }

  /** Creates a keyring file with one freshly generated key named {@link #KEY_NAME}. */
  static Path newKeyring(Path dir) {
    Path file = dir.resolve("keyring-" + randomHex(4) + ".txt");
    MqsealKeyring.generate(file, KEY_NAME);
    return file;
  }

  /** Copies a keyring file and adds a new version of {@link #KEY_NAME} to the copy. */
  static Path rotatedCopy(Path keyring) {
    Path copy = keyring.resolveSibling(keyring.getFileName() + ".rotated");
    try {
      Files.copy(keyring, copy, StandardCopyOption.REPLACE_EXISTING);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    MqsealKeyring.rotate(copy, KEY_NAME);
    return copy;
  }

  static MqsealCipher cipher(Path keyring) {
    return MqsealCipher.builder().keyringPath(keyring).keyIds(KEY_NAME).build();
  }

  /**
   * Returns a body of {@code size} bytes that starts with a fresh plaintext marker and continues
   * with random printable text; bodies shorter than a marker get a prefix of it.
   */
  static byte[] body(int size) {
    byte[] body = new byte[size];
    for (int i = 0; i < size; i++) {
      body[i] = (byte) FILLER[RANDOM.nextInt(FILLER.length)];
    }
    if (size > 0) {
      byte[] marker = Markers.plaintext().getBytes(StandardCharsets.US_ASCII);
      System.arraycopy(marker, 0, body, 0, Math.min(marker.length, size));
    }
    return body;
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from this JDK", e);
    }
  }

  static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  static String uniqueId(String prefix) {
    return prefix + "-" + randomHex(6);
  }
}
