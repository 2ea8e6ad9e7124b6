package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The lite pull helper returns decrypted copies and dead-letters what cannot be decrypted. */
@ExtendWith(RocketMqBroker.class)
class LitePullTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(60);

  @TempDir Path keyDir;

  @Test
  void pollReturnsDecryptedCopies() throws Exception {
    String group = TestTopics.group("litepull");
    DecryptionMetricsHook metrics = new DecryptionMetricsHook();
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(keyDir))) {
      DefaultMQProducer raw = TestClients.producer(TestTopics.group("litepull-raw"));
      EncryptingProducer producer =
          EncryptingProducer.builder(
                  TestClients.producer(TestTopics.group("litepull-producer")), cipher)
              .build();
      DefaultLitePullConsumer litePull = TestClients.litePullConsumer(group);
      litePull.subscribe(TestTopics.LITE_PULL, "*");
      DecryptingLitePullConsumer consumer =
          DecryptingLitePullConsumer.builder(cipher, litePull)
              .deadLetterProducer(raw)
              .metrics(metrics)
              .build();
      raw.start();
      producer.start();
      litePull.start();
      try {
        Inbox inbox = new Inbox();
        String goodKey = TestClients.uniqueId("litepull");
        byte[] body = TestClients.body(2000);
        producer.send(new Message(TestTopics.LITE_PULL, "tagA", goodKey, body));

        String badKey = TestClients.uniqueId("litepull-tampered");
        byte[] tampered =
            cipher.encrypt(
                TestClients.body(100),
                Map.of(MqsealProperties.CONTEXT_TOPIC, TestTopics.LITE_PULL));
        tampered[tampered.length - 1] ^= 0x01;
        raw.send(new Message(TestTopics.LITE_PULL, "tagA", badKey, tampered));

        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while ((inbox.get(goodKey).isEmpty() || metrics.failed() == 0)
            && System.nanoTime() < deadline) {
          inbox.addAll(consumer.poll(500));
        }
        assertEquals(TestClients.sha256(body), inbox.first(goodKey).bodySha256());

        List<MessageExt> dead = TopicReader.read(MixAll.getDLQTopic(group), 1, TIMEOUT);
        MessageExt deadMessage =
            dead.stream().filter(m -> badKey.equals(m.getKeys())).findFirst().orElse(null);
        assertNotNull(deadMessage, "the tampered message is not in the DLQ");
        assertArrayEquals(tampered, deadMessage.getBody());
        assertEquals("authentication_failed", deadMessage.getProperty(MqsealProperties.ERROR_NAME));
        assertEquals(List.of(), inbox.get(badKey));
        assertEquals(1, metrics.decrypted(), "metrics: " + metrics);
        assertEquals(1, metrics.failed(), "metrics: " + metrics);
      } finally {
        litePull.shutdown();
        producer.shutdown();
        raw.shutdown();
      }
    }
  }
}
