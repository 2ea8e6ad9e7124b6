package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageBuilder;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Normal, delayed and FIFO messages through the facade and the decrypting push listener. */
@Order(1)
@ExtendWith(RocketMqProxy.class)
class ProducerConsumerTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @TempDir Path dir;

  @Test
  void normalRoundTripBothSuites() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    Inbox inbox = new Inbox();
    Map<String, byte[]> sent = new HashMap<>();
    Map<String, String> suites = new HashMap<>();
    Map<String, String> regions = new HashMap<>();
    try (MqsealCipher consumerCipher = TestClients.cipher(keyring);
        PushConsumer consumer =
            DecryptingMessageListener.builder(consumerCipher, inbox)
                .build()
                .buildConsumer(
                    TestClients.pushConsumer(TestNames.ROUND_TRIP_GROUP, TestNames.NORMAL))) {
      for (String suite : List.of("aes-256-gcm", "chacha20-poly1305")) {
        try (MqsealCipher cipher = TestClients.cipher(keyring, suite);
            Producer producer = TestClients.producer(TestNames.NORMAL)) {
          EncryptingProducer facade =
              EncryptingProducer.builder(producer, cipher).sealProperties("customer").build();
          for (int size : new int[] {1, 1024, 256 * 1024}) {
            String key = suite + "-" + size + "-" + TestClients.randomHex(4);
            byte[] body = TestClients.body(size);
            String region = Markers.control();
            regions.put(key, region);
            Message message =
                TestClients.PROVIDER
                    .newMessageBuilder()
                    .setTopic(TestNames.NORMAL)
                    .setTag("created")
                    .setKeys(key)
                    .setBody(body)
                    .addProperty("customer", Markers.plaintext())
                    .addProperty("region", region)
                    .build();
            Message encrypted = facade.encrypt(message);
            if (size >= 16) {
              // Shorter bodies can appear in random ciphertext by chance.
              assertFalse(
                  contains(TestClients.bytes(encrypted.getBody()), body),
                  "the envelope contains the plaintext");
            }
            assertFalse(encrypted.getProperties().containsKey("customer"), "customer not sealed");
            facade.send(message);
            sent.put(key, body);
            suites.put(key, suite);
          }
        }
      }
      List<String> missing = inbox.await(sent.keySet(), WAIT);
      assertTrue(missing.isEmpty(), "not delivered: " + missing);
    }
    for (Map.Entry<String, byte[]> entry : sent.entrySet()) {
      Inbox.Delivery delivery = inbox.first(entry.getKey());
      assertTrue(delivery.decryptedView(), "the listener got the client's view");
      assertArrayEquals(entry.getValue(), delivery.body(), "body of " + entry.getKey());
      assertTrue(
          delivery.properties().get("customer").startsWith(Markers.PLAINTEXT_PREFIX),
          "sealed property");
      assertEquals(regions.get(entry.getKey()), delivery.properties().get("region"), "plain property");
      assertEquals(suites.get(entry.getKey()), delivery.properties().get(MqsealProperties.SUITE));
      assertEquals(TestClients.KEY_NAME, delivery.properties().get(MqsealProperties.KEY_ID));
      assertEquals(TestNames.NORMAL, delivery.properties().get(MqsealProperties.TOPIC));
    }
  }

  @Test
  void delayedMessageArrivesDecrypted() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    Inbox inbox = new Inbox();
    String key = "delay-" + TestClients.randomHex(4);
    byte[] body = TestClients.body(2048);
    long deliverAt = System.currentTimeMillis() + 3_000;
    try (MqsealCipher cipher = TestClients.cipher(keyring);
        PushConsumer consumer =
            DecryptingMessageListener.builder(cipher, inbox)
                .build()
                .buildConsumer(TestClients.pushConsumer(TestNames.DELAY_GROUP, TestNames.DELAY));
        Producer producer = TestClients.producer(TestNames.DELAY)) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();
      facade.send(
          TestClients.PROVIDER
              .newMessageBuilder()
              .setTopic(TestNames.DELAY)
              .setKeys(key)
              .setDeliveryTimestamp(deliverAt)
              .setBody(body)
              .build());
      List<String> missing = inbox.await(List.of(key), WAIT);
      assertTrue(missing.isEmpty(), "delayed message not delivered");
    }
    Inbox.Delivery delivery = inbox.first(key);
    assertArrayEquals(body, delivery.body());
    assertNotNull(delivery.deliveryTimestamp(), "delivery timestamp dropped");
    assertEquals(deliverAt, delivery.deliveryTimestamp().longValue());
  }

  @Test
  void fifoKeepsOrderPerGroup() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    Inbox inbox = new Inbox();
    int perGroup = 12;
    List<String> groups = List.of("g-a", "g-b", "g-c");
    List<String> keys = new ArrayList<>();
    String tamperedKey = "g-b-tampered-" + TestClients.randomHex(4);
    try (MqsealCipher cipher = TestClients.cipher(keyring);
        PushConsumer consumer =
            DecryptingMessageListener.builder(cipher, inbox)
                .build()
                .buildConsumer(TestClients.pushConsumer(TestNames.FIFO_GROUP, TestNames.FIFO));
        Producer producer = TestClients.producer(TestNames.FIFO)) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();
      for (int i = 0; i < perGroup; i++) {
        for (String group : groups) {
          String key = group + "-" + i;
          keys.add(key);
          facade.send(
              TestClients.PROVIDER
                  .newMessageBuilder()
                  .setTopic(TestNames.FIFO)
                  .setKeys(key)
                  .setMessageGroup(group)
                  .setBody((group + ":" + i).getBytes(StandardCharsets.UTF_8))
                  .build());
        }
        if (i == perGroup / 2) {
          // An undecryptable message is dead-lettered and must not block its group.
          Message encrypted =
              facade.encrypt(
                  TestClients.PROVIDER
                      .newMessageBuilder()
                      .setTopic(TestNames.FIFO)
                      .setKeys(tamperedKey)
                      .setMessageGroup("g-b")
                      .setBody(TestClients.body(64))
                      .build());
          byte[] envelope = TestClients.bytes(encrypted.getBody());
          envelope[envelope.length - 1] ^= 0x01;
          MessageBuilder tampered =
              TestClients.PROVIDER
                  .newMessageBuilder()
                  .setTopic(TestNames.FIFO)
                  .setKeys(tamperedKey)
                  .setMessageGroup("g-b")
                  .setBody(envelope);
          encrypted.getProperties().forEach(tampered::addProperty);
          producer.send(tampered.build());
        }
      }
      List<String> missing = inbox.await(keys, WAIT);
      assertTrue(missing.isEmpty(), "not delivered: " + missing);
    }
    for (String group : groups) {
      List<String> order = new ArrayList<>();
      for (Inbox.Delivery delivery : inbox.all()) {
        if (group.equals(delivery.messageGroup())) {
          order.add(new String(delivery.body(), StandardCharsets.UTF_8));
        }
      }
      List<String> expected = new ArrayList<>();
      for (int i = 0; i < perGroup; i++) {
        expected.add(group + ":" + i);
      }
      assertEquals(expected, order.subList(0, Math.min(order.size(), perGroup)), group);
    }
    assertTrue(inbox.get(tamperedKey).isEmpty(), "the tampered message reached the application");
  }

  private static boolean contains(byte[] haystack, byte[] needle) {
    String text = new String(haystack, StandardCharsets.ISO_8859_1);
    return text.contains(new String(needle, StandardCharsets.ISO_8859_1));
  }
}
