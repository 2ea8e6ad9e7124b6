package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** A listener that fails once gets the decrypted message again from the retry topic. */
@ExtendWith(RocketMqBroker.class)
class RedeliveryTest {
  @TempDir Path keyDir;

  @Test
  void failedDeliveryIsDecryptedOnRetry() throws Exception {
    Inbox inbox = new Inbox();
    Set<String> failedOnce = ConcurrentHashMap.newKeySet();
    DecryptionMetricsHook metrics = new DecryptionMetricsHook();

    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(keyDir))) {
      EncryptingProducer producer =
          EncryptingProducer.builder(
                  TestClients.producer(TestTopics.group("redelivery-producer")), cipher)
              .build();
      DefaultMQPushConsumer consumer = TestClients.pushConsumer(TestTopics.group("redelivery"));
      consumer.subscribe(TestTopics.REDELIVERY, "*");
      consumer.registerConsumeMessageHook(metrics);
      consumer.registerMessageListener(
          DecryptingMessageListenerConcurrently.builder(
                  cipher,
                  consumer,
                  (messages, context) -> {
                    inbox.addAll(messages);
                    if (failedOnce.add(messages.get(0).getKeys())) {
                      context.setDelayLevelWhenNextConsume(1);
                      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
                    }
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                  })
              .build());
      producer.start();
      consumer.start();
      try {
        String key = TestClients.uniqueId("redelivery");
        byte[] body = TestClients.body(4096);
        producer.send(new Message(TestTopics.REDELIVERY, "tagA", key, body));

        List<String> missing = inbox.await(List.of(key), 2, Duration.ofSeconds(60));
        assertEquals(List.of(), missing, "the message was not delivered twice");
        List<Inbox.Delivery> deliveries = inbox.get(key);
        assertEquals(TestClients.sha256(body), deliveries.get(0).bodySha256(), "first delivery");
        assertEquals(TestClients.sha256(body), deliveries.get(1).bodySha256(), "redelivery");
        assertEquals(0, deliveries.get(0).reconsumeTimes());
        assertEquals(1, deliveries.get(1).reconsumeTimes());
        assertEquals(TestTopics.REDELIVERY, deliveries.get(1).topic());
        assertTrue(metrics.decrypted() >= 2, "metrics: " + metrics);
        assertEquals(0, metrics.failed(), "metrics: " + metrics);
      } finally {
        consumer.shutdown();
        producer.shutdown();
      }
    }
  }
}
