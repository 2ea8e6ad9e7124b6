package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Sealed properties travel inside the envelope: the listener gets them back, the broker never
 * stores them, and tags keep working for broker-side filtering.
 */
@ExtendWith(RocketMqBroker.class)
class SealedPropertiesTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path keyDir;

  @Test
  void sealedPropertiesRestoredAndNotStored() throws Exception {
    Inbox inbox = new Inbox();
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(keyDir))) {
      EncryptingProducer producer =
          EncryptingProducer.builder(
                  TestClients.producer(TestTopics.group("sealed-producer")), cipher)
              .sealProperties("customer-ssn")
              .sealPropertyPrefixes("secret-")
              .build();
      DefaultMQPushConsumer consumer = TestClients.pushConsumer(TestTopics.group("sealed"));
      consumer.subscribe(TestTopics.SEALED, "tagA");
      consumer.registerMessageListener(
          DecryptingMessageListenerConcurrently.builder(
                  cipher,
                  consumer,
                  (messages, context) -> {
                    inbox.addAll(messages);
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                  })
              .build());
      producer.start();
      consumer.start();
      try {
        String ssn = Markers.plaintext();
        String secret = Markers.plaintext();
        String visible = Markers.control();
        String key = TestClients.uniqueId("sealed");
        Message message = new Message(TestTopics.SEALED, "tagA", key, TestClients.body(300));
        message.putUserProperty("customer-ssn", ssn);
        message.putUserProperty("secret-note", secret);
        message.putUserProperty("visible", visible);
        producer.send(message);

        String filteredKey = TestClients.uniqueId("filtered");
        producer.send(new Message(TestTopics.SEALED, "tagB", filteredKey, TestClients.body(100)));

        assertEquals(
            List.of(), inbox.await(List.of(key), TIMEOUT), "the sealed message was not delivered");
        Map<String, String> received = inbox.first(key).properties();
        assertEquals(ssn, received.get("customer-ssn"));
        assertEquals(secret, received.get("secret-note"));
        assertEquals(visible, received.get("visible"));
        assertEquals("tagA", received.get("TAGS"));
        assertEquals(
            ssn, message.getUserProperty("customer-ssn"), "the application's message changed");

        List<MessageExt> stored = TopicReader.read(TestTopics.SEALED, 2, TIMEOUT);
        MessageExt raw =
            stored.stream().filter(m -> key.equals(m.getKeys())).findFirst().orElse(null);
        assertNotNull(raw, "the message is not in the topic");
        assertTrue(MqsealCipher.looksEncrypted(raw.getBody()), "stored body is not an envelope");
        assertFalse(
            raw.getProperties().containsKey("customer-ssn"), raw.getProperties().toString());
        assertFalse(raw.getProperties().containsKey("secret-note"), raw.getProperties().toString());
        assertFalse(
            raw.getProperties().containsKey(MqsealProperties.SEALED),
            raw.getProperties().toString());
        assertFalse(raw.getProperties().toString().contains(ssn));
        assertEquals(visible, raw.getProperty("visible"));
        assertEquals("tagA", raw.getTags());
        assertEquals(key, raw.getKeys());
        assertEquals("1", raw.getProperty(MqsealProperties.VERSION));
        assertEquals(TestClients.KEY_NAME, raw.getProperty(MqsealProperties.KEY_ID));
        assertEquals(TestTopics.SEALED, raw.getProperty(MqsealProperties.TOPIC));
        assertNotNull(raw.getProperty(MqsealProperties.SUITE));
        assertNotNull(raw.getProperty(MqsealProperties.KEY_VERSION));

        Thread.sleep(1_000);
        assertEquals(
            List.of(), inbox.get(filteredKey), "the tag filter let a tagB message through");
      } finally {
        consumer.shutdown();
        producer.shutdown();
      }
    }
  }
}
