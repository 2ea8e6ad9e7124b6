package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import io.mqseal.MqsealProperties;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * AWS KMS faults through a real broker, with local-kms as the KMS: an outage delays messages but
 * loses none, and a disabled key sends its messages to the dead-letter topic until it is enabled
 * and they are re-driven.
 */
@ExtendWith(RocketMqBroker.class)
class KmsFaultTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(240);
  /** Messages sent while local-kms runs, then while it is stopped. */
  private static final int BEFORE = 12;

  private static final int DURING = 8;

  @Test
  void outageDelaysButLosesNothing() throws Exception {
    // 8 messages per data key: the producer needs the KMS again during the outage.
    String producerConfig =
        LocalKms.config(LocalKms.var("MQSEAL_KMS_ALIAS"), "limits.max_messages = 8\n");
    String consumerConfig = LocalKms.config(null, "breaker.open_seconds = 1\n");
    Map<String, String> sent = new LinkedHashMap<>();
    Inbox inbox = new Inbox();
    DecryptionMetricsHook metrics = new DecryptionMetricsHook();
    try (MqsealCipher producerCipher = MqsealCipher.fromConfig(producerConfig);
        MqsealCipher consumerCipher = MqsealCipher.fromConfig(consumerConfig)) {
      EncryptingProducer producer =
          EncryptingProducer.builder(
                  TestClients.producer(TestTopics.group("kms-outage-producer")), producerCipher)
              .build();
      producer.start();
      DefaultMQPushConsumer consumer = null;
      boolean kmsStopped = false;
      try {
        for (int i = 0; i < BEFORE; i++) {
          send(producer, sent);
        }
        LocalKms.stop();
        kmsStopped = true;

        // The producer's cached data key seals until its limit, then sends fail retryably.
        List<byte[]> unsent = new ArrayList<>();
        int sentDuring = 0;
        for (int i = 0; i < DURING; i++) {
          byte[] body = TestClients.body(2048);
          try {
            send(producer, sent, body);
            sentDuring++;
          } catch (MqsealException e) {
            assertTrue(e.isRetryable(), "a KMS outage must be retryable: " + e);
            unsent.add(body);
          }
        }
        assertEquals(BEFORE % 8 == 0 ? 0 : 8 - BEFORE % 8, sentDuring, "sent on the cached key");
        assertEquals(DURING - sentDuring, unsent.size());

        // A consumer with an empty cache cannot unwrap anything while local-kms is down.
        consumer =
            TestClients.decryptingConsumer(
                TestTopics.group("kms-outage"),
                TestTopics.KMS_OUTAGE,
                consumerCipher,
                inbox,
                metrics);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (consumerCipher.counters().providerFailures() < 1 && System.nanoTime() < deadline) {
          Thread.sleep(200);
        }
        assertTrue(
            consumerCipher.counters().providerFailures() >= 1,
            "the consumer never called the stopped KMS: " + consumerCipher.counters());
        assertEquals(0, metrics.decrypted(), "nothing decrypts during the outage");

        LocalKms.start();
        kmsStopped = false;
        for (byte[] body : unsent) {
          send(producer, sent, body);
        }

        List<String> missing = inbox.await(sent.keySet(), TIMEOUT);
        assertEquals(List.of(), missing, "messages lost; metrics: " + metrics);
        int redelivered = 0;
        for (Map.Entry<String, String> entry : sent.entrySet()) {
          List<Inbox.Delivery> deliveries = inbox.get(entry.getKey());
          assertEquals(entry.getValue(), deliveries.get(0).bodySha256(), entry.getKey());
          if (deliveries.get(0).reconsumeTimes() > 0) {
            redelivered++;
          }
        }
        assertEquals(BEFORE + DURING, sent.size());
        assertTrue(redelivered >= 1, "no message was redelivered after the outage");
        for (String error : metrics.failedByError().keySet()) {
          assertEquals("provider_unavailable", error, "metrics: " + metrics);
        }
      } finally {
        if (kmsStopped) {
          LocalKms.start();
        }
        if (consumer != null) {
          consumer.shutdown();
        }
        producer.shutdown();
      }
    }
  }

  @Test
  void disabledKeyDeadLettersUntilEnabled() throws Exception {
    String keyB = LocalKms.var("MQSEAL_KMS_KEY_B");
    String group = TestTopics.group("kms-disabled");
    Map<String, String> sent = new LinkedHashMap<>();
    Inbox inbox = new Inbox();
    DefaultMQProducer rawProducer = TestClients.producer(TestTopics.group("kms-disabled-raw"));
    try (MqsealCipher producerCipher = MqsealCipher.fromConfig(LocalKms.config(keyB, ""));
        MqsealCipher consumerCipher = MqsealCipher.fromConfig(LocalKms.config(null, ""))) {
      EncryptingProducer producer =
          EncryptingProducer.builder(
                  TestClients.producer(TestTopics.group("kms-disabled-producer")), producerCipher)
              .build();
      producer.start();
      rawProducer.start();
      DefaultMQPushConsumer consumer = null;
      boolean disabled = false;
      try {
        for (int i = 0; i < 3; i++) {
          sendTo(TestTopics.KMS_DISABLED, producer, sent, TestClients.body(512));
        }
        LocalKms.disable(keyB);
        disabled = true;
        consumer =
            TestClients.decryptingConsumer(
                group, TestTopics.KMS_DISABLED, consumerCipher, inbox, new DecryptionMetricsHook());

        Map<String, MessageExt> dead = new HashMap<>();
        for (MessageExt message : TopicReader.read(MixAll.getDLQTopic(group), 3, TIMEOUT)) {
          dead.putIfAbsent(message.getKeys(), message);
        }
        assertEquals(sent.keySet(), dead.keySet(), "dead-lettered messages");
        for (MessageExt message : dead.values()) {
          assertEquals("key_disabled", message.getProperty(MqsealProperties.ERROR_NAME));
          assertEquals("false", message.getProperty(MqsealProperties.ERROR_RETRYABLE));
          assertEquals(List.of(), inbox.get(message.getKeys()), "delivered while disabled");
        }

        LocalKms.enable(keyB);
        disabled = false;
        for (MessageExt message : dead.values()) {
          rawProducer.send(DeadLetters.redriveCopy(message));
        }
        assertEquals(List.of(), inbox.await(sent.keySet(), TIMEOUT), "re-driven messages");
        for (Map.Entry<String, String> entry : sent.entrySet()) {
          assertEquals(entry.getValue(), inbox.first(entry.getKey()).bodySha256());
        }
      } finally {
        if (disabled) {
          LocalKms.enable(keyB);
        }
        if (consumer != null) {
          consumer.shutdown();
        }
        producer.shutdown();
        rawProducer.shutdown();
      }
    }
  }

  private static void send(EncryptingProducer producer, Map<String, String> sent)
      throws Exception {
    send(producer, sent, TestClients.body(2048));
  }

  private static void send(EncryptingProducer producer, Map<String, String> sent, byte[] body)
      throws Exception {
    sendTo(TestTopics.KMS_OUTAGE, producer, sent, body);
  }

  private static void sendTo(
      String topic, EncryptingProducer producer, Map<String, String> sent, byte[] body)
      throws Exception {
    String key = TestClients.uniqueId("kms");
    assertNotNull(producer.send(new Message(topic, "tagA", key, body)));
    sent.put(key, TestClients.sha256(body));
  }
}
