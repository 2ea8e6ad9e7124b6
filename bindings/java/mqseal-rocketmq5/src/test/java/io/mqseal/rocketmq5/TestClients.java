package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Map;
import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.PushConsumerBuilder;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.TransactionChecker;

/** Clients, keyrings and bodies for tests against the proxy of {@link RocketMqProxy}. */
final class TestClients {
  static final String KEY_NAME = "orders";
  static final ClientServiceProvider PROVIDER = ClientServiceProvider.loadService();

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final char[] FILLER =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,".toCharArray();

  private TestClients() {}

  /** Plaintext gRPC to the loopback proxy; the client defaults to TLS. */
  static ClientConfiguration configuration() {
    return ClientConfiguration.newBuilder()
        .setEndpoints(RocketMqProxy.get().endpoint())
        .enableSsl(false)
        .setRequestTimeout(Duration.ofSeconds(15))
        .build();
  }

  static Producer producer(String... topics) throws ClientException {
    return PROVIDER
        .newProducerBuilder()
        .setClientConfiguration(configuration())
        .setTopics(topics)
        .build();
  }

  static Producer transactionalProducer(TransactionChecker checker, String... topics)
      throws ClientException {
    return PROVIDER
        .newProducerBuilder()
        .setClientConfiguration(configuration())
        .setTopics(topics)
        .setTransactionChecker(checker)
        .build();
  }

  /** Returns a push consumer builder without a listener, subscribed to every tag of {@code topic}. */
  static PushConsumerBuilder pushConsumer(String group, String topic) {
    return PROVIDER
        .newPushConsumerBuilder()
        .setClientConfiguration(configuration())
        .setConsumerGroup(group)
        .setConsumptionThreadCount(4)
        .setSubscriptionExpressions(Map.of(topic, FilterExpression.SUB_ALL));
  }

  static SimpleConsumer simpleConsumer(String group, String topic) throws ClientException {
    return PROVIDER
        .newSimpleConsumerBuilder()
        .setClientConfiguration(configuration())
        .setConsumerGroup(group)
        .setAwaitDuration(Duration.ofSeconds(5))
        .setSubscriptionExpressions(Map.of(topic, FilterExpression.SUB_ALL))
        .build();
  }

  /** Creates a keyring file with one freshly generated key named {@link #KEY_NAME}. */
  static Path newKeyring(Path dir) {
    Path file = dir.resolve("keyring-" + randomHex(4) + ".txt");
    MqsealKeyring.generate(file, KEY_NAME);
    return file;
  }

  static MqsealCipher cipher(Path keyring, String suite) {
    return MqsealCipher.builder().keyringPath(keyring).keyIds(KEY_NAME).suite(suite).build();
  }

  static MqsealCipher cipher(Path keyring) {
    return cipher(keyring, "aes-256-gcm");
  }

  /**
   * Returns a body of {@code size} bytes that starts with a fresh plaintext marker (see {@link
   * AtRestScanTest}) and continues with random printable text; bodies shorter than a marker get a
   * prefix of it.
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

  static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }

  static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    RANDOM.nextBytes(random);
    return HexFormat.of().formatHex(random);
  }
}
