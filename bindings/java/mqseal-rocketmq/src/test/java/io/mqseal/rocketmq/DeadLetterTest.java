package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * Messages that can never be decrypted reach the dead-letter topic with the body unchanged, and
 * decrypt once re-sent after the missing key is restored.
 */
@ExtendWith(RocketMqBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class DeadLetterTest {
  private static final Duration TIMEOUT = Duration.ofSeconds(90);

  @TempDir static Path keyDir;

  private Path rotatedKeyring;
  private MqsealCipher cipher;
  private MqsealCipher rotatedCipher;
  private DefaultMQProducer rawProducer;
  private EncryptingProducer producer;
  private EncryptingProducer rotatedProducer;

  @BeforeAll
  void startProducers() throws Exception {
    Path keyring = TestClients.newKeyring(keyDir);
    rotatedKeyring = TestClients.rotatedCopy(keyring);
    cipher = TestClients.cipher(keyring);
    rotatedCipher = TestClients.cipher(rotatedKeyring);

    rawProducer = TestClients.producer(TestTopics.group("deadletter-raw"));
    rawProducer.start();
    producer =
        EncryptingProducer.builder(
                TestClients.producer(TestTopics.group("deadletter-producer")), cipher)
            .build();
    producer.start();
    rotatedProducer =
        EncryptingProducer.builder(
                TestClients.producer(TestTopics.group("deadletter-rotated")), rotatedCipher)
            .build();
    rotatedProducer.start();
  }

  @AfterAll
  void stopProducers() {
    for (Runnable stop :
        List.<Runnable>of(
            rawProducer::shutdown,
            producer::shutdown,
            rotatedProducer::shutdown,
            cipher::close,
            rotatedCipher::close)) {
      stop.run();
    }
  }

  @Test
  void undecryptableMessagesGoToDeadLetterTopic() throws Exception {
    String group = TestTopics.group("deadletter");
    String copyGroup = TestTopics.group("deadletter-copy");
    Inbox inbox = new Inbox();
    DecryptionMetricsHook metrics = new DecryptionMetricsHook();
    DefaultMQPushConsumer consumer =
        TestClients.decryptingConsumer(group, TestTopics.DEAD_LETTER, cipher, inbox, metrics);
    DefaultMQPushConsumer copyConsumer =
        TestClients.decryptingConsumer(
            copyGroup, TestTopics.DEAD_LETTER_COPY, cipher, inbox, new DecryptionMetricsHook());

    String goodKey = TestClients.uniqueId("good");
    byte[] goodBody = TestClients.body(1024);
    producer.send(new Message(TestTopics.DEAD_LETTER, "tagA", goodKey, goodBody));

    String tamperedKey = TestClients.uniqueId("tampered");
    byte[] tampered = tamperedEnvelope(TestTopics.DEAD_LETTER);
    rawProducer.send(new Message(TestTopics.DEAD_LETTER, "tagA", tamperedKey, tampered));

    String rotatedKey = TestClients.uniqueId("rotated");
    byte[] rotatedBody = TestClients.body(1024);
    Message rotatedCopy =
        rotatedProducer.encrypt(
            new Message(TestTopics.DEAD_LETTER, "tagA", rotatedKey, rotatedBody));
    rawProducer.send(rotatedCopy);

    String plainKey = TestClients.uniqueId("plain");
    String plainMarker = Markers.plaintext();
    Markers.sentUnencrypted(plainMarker);
    byte[] plainBody = ("not encrypted " + plainMarker).getBytes(StandardCharsets.US_ASCII);
    rawProducer.send(new Message(TestTopics.DEAD_LETTER, "tagA", plainKey, plainBody));

    String copiedKey = TestClients.uniqueId("copied");
    Message original =
        producer.encrypt(
            new Message(TestTopics.DEAD_LETTER, "tagA", copiedKey, TestClients.body(512)));
    rawProducer.send(
        new Message(TestTopics.DEAD_LETTER_COPY, "tagA", copiedKey, original.getBody()));

    try {
      assertEquals(
          List.of(), inbox.await(List.of(goodKey), TIMEOUT), "the good message was not delivered");
      assertEquals(TestClients.sha256(goodBody), inbox.first(goodKey).bodySha256());

      Map<String, MessageExt> dead = byKey(TopicReader.read(MixAll.getDLQTopic(group), 3, TIMEOUT));
      assertArrayEquals(tampered, body(dead, tamperedKey), "tampered body in the DLQ");
      assertArrayEquals(
          rotatedCopy.getBody(), body(dead, rotatedKey), "rotated-key body in the DLQ");
      assertArrayEquals(plainBody, body(dead, plainKey), "unencrypted body in the DLQ");
      assertDiagnostics(dead.get(tamperedKey), "authentication_failed", TestTopics.DEAD_LETTER);
      assertDiagnostics(dead.get(rotatedKey), "key_version_not_found", TestTopics.DEAD_LETTER);
      assertDiagnostics(dead.get(plainKey), "not_encrypted", TestTopics.DEAD_LETTER);

      Map<String, MessageExt> deadCopies =
          byKey(TopicReader.read(MixAll.getDLQTopic(copyGroup), 1, TIMEOUT));
      assertArrayEquals(original.getBody(), body(deadCopies, copiedKey), "copied body in the DLQ");
      assertDiagnostics(
          deadCopies.get(copiedKey), "authentication_failed", TestTopics.DEAD_LETTER_COPY);

      for (String key : List.of(tamperedKey, rotatedKey, plainKey, copiedKey)) {
        assertEquals(List.of(), inbox.get(key), "the application received " + key);
      }
      assertEquals(1, metrics.decrypted(), "metrics: " + metrics);
      assertEquals(3, metrics.failed(), "metrics: " + metrics);
      assertEquals(
          Map.of("authentication_failed", 1L, "key_version_not_found", 1L, "not_encrypted", 1L),
          metrics.failedByError());
    } finally {
      consumer.shutdown();
      copyConsumer.shutdown();
    }

    // The consumer gets the rotated key; the dead-lettered message is re-sent and decrypts.
    Inbox restoredInbox = new Inbox();
    DefaultMQPushConsumer restored =
        TestClients.decryptingConsumer(
            group,
            TestTopics.DEAD_LETTER,
            rotatedCipher,
            restoredInbox,
            new DecryptionMetricsHook());
    try {
      MessageExt deadRotated =
          byKey(TopicReader.read(MixAll.getDLQTopic(group), 3, TIMEOUT)).get(rotatedKey);
      Message redrive = DeadLetters.redriveCopy(deadRotated);
      assertEquals(TestTopics.DEAD_LETTER, redrive.getTopic());
      assertFalse(redrive.getProperties().containsKey(MqsealProperties.ERROR_CODE));
      rawProducer.send(redrive);
      assertEquals(
          List.of(), restoredInbox.await(List.of(rotatedKey), TIMEOUT), "the re-sent message");
      assertEquals(TestClients.sha256(rotatedBody), restoredInbox.first(rotatedKey).bodySha256());
    } finally {
      restored.shutdown();
    }
  }

  @Test
  void brokerCopyModeKeepsBodyWithoutDiagnostics() throws Exception {
    String group = TestTopics.group("deadletter-broker");
    Inbox inbox = new Inbox();
    DefaultMQPushConsumer consumer = TestClients.pushConsumer(group);
    consumer.subscribe(TestTopics.DEAD_LETTER_BROKER, "*");
    consumer.registerMessageListener(
        DecryptingMessageListenerConcurrently.builder(
                cipher,
                consumer,
                (messages, context) -> {
                  inbox.addAll(messages);
                  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                })
            .deadLetterMode(DeadLetterMode.BROKER_COPY)
            .build());
    consumer.start();
    try {
      String key = TestClients.uniqueId("tampered-broker");
      byte[] tampered = tamperedEnvelope(TestTopics.DEAD_LETTER_BROKER);
      rawProducer.send(new Message(TestTopics.DEAD_LETTER_BROKER, "tagA", key, tampered));

      MessageExt dead = byKey(TopicReader.read(MixAll.getDLQTopic(group), 1, TIMEOUT)).get(key);
      assertNotNull(dead, "the tampered message is not in the DLQ");
      assertArrayEquals(tampered, dead.getBody());
      assertFalse(
          dead.getProperties().containsKey(MqsealProperties.ERROR_CODE),
          dead.getProperties().toString());
      assertEquals(
          TestTopics.DEAD_LETTER_BROKER, dead.getProperty(MessageConst.PROPERTY_RETRY_TOPIC));
      assertEquals(TestTopics.DEAD_LETTER_BROKER, DeadLetters.originalTopic(dead));
      assertEquals(List.of(), inbox.get(key));
    } finally {
      consumer.shutdown();
    }
  }

  @Test
  void orderlyQueueMovesPastUndecryptableMessage() throws Exception {
    String group = TestTopics.group("deadletter-orderly");
    Inbox inbox = new Inbox();
    DefaultMQPushConsumer consumer = TestClients.pushConsumer(group);
    consumer.subscribe(TestTopics.DEAD_LETTER_ORDERLY, "*");
    consumer.registerMessageListener(
        DecryptingMessageListenerOrderly.builder(
                cipher,
                consumer,
                (messages, context) -> {
                  inbox.addAll(messages);
                  return ConsumeOrderlyStatus.SUCCESS;
                })
            .build());
    assertEquals(
        DecryptingMessageListenerOrderly.DEFAULT_MAX_RECONSUME_TIMES,
        consumer.getMaxReconsumeTimes());
    consumer.start();
    try {
      MessageQueue queue =
          rawProducer.fetchPublishMessageQueues(TestTopics.DEAD_LETTER_ORDERLY).get(0);
      String badKey = TestClients.uniqueId("tampered-orderly");
      byte[] tampered = tamperedEnvelope(TestTopics.DEAD_LETTER_ORDERLY);
      rawProducer.send(
          new Message(TestTopics.DEAD_LETTER_ORDERLY, "tagA", badKey, tampered), queue);
      String goodKey = TestClients.uniqueId("after-tampered");
      byte[] goodBody = TestClients.body(256);
      Message good =
          producer.encrypt(new Message(TestTopics.DEAD_LETTER_ORDERLY, "tagA", goodKey, goodBody));
      rawProducer.send(good, queue);

      assertEquals(List.of(), inbox.await(List.of(goodKey), TIMEOUT), "the queue stayed blocked");
      assertEquals(TestClients.sha256(goodBody), inbox.first(goodKey).bodySha256());
      MessageExt dead = byKey(TopicReader.read(MixAll.getDLQTopic(group), 1, TIMEOUT)).get(badKey);
      assertNotNull(dead, "the tampered message is not in the DLQ");
      assertArrayEquals(tampered, dead.getBody());
      assertDiagnostics(dead, "authentication_failed", TestTopics.DEAD_LETTER_ORDERLY);
    } finally {
      consumer.shutdown();
    }
  }

  @Test
  void batchDeliversDecryptableMessages() throws Exception {
    String group = TestTopics.group("deadletter-batch");
    MessageQueue queue = rawProducer.fetchPublishMessageQueues(TestTopics.DEAD_LETTER_BATCH).get(0);
    // Stored before the consumer starts, so the consumer receives them in one batch.
    String firstKey = TestClients.uniqueId("batch-first");
    byte[] firstBody = TestClients.body(300);
    rawProducer.send(
        producer.encrypt(new Message(TestTopics.DEAD_LETTER_BATCH, "tagA", firstKey, firstBody)),
        queue);
    String badKey = TestClients.uniqueId("batch-tampered");
    byte[] tampered = tamperedEnvelope(TestTopics.DEAD_LETTER_BATCH);
    rawProducer.send(new Message(TestTopics.DEAD_LETTER_BATCH, "tagA", badKey, tampered), queue);
    String lastKey = TestClients.uniqueId("batch-last");
    byte[] lastBody = TestClients.body(300);
    rawProducer.send(
        producer.encrypt(new Message(TestTopics.DEAD_LETTER_BATCH, "tagA", lastKey, lastBody)),
        queue);

    Inbox inbox = new Inbox();
    List<Integer> batchSizes = new CopyOnWriteArrayList<>();
    DefaultMQPushConsumer consumer = TestClients.pushConsumer(group);
    consumer.setConsumeMessageBatchMaxSize(10);
    consumer.subscribe(TestTopics.DEAD_LETTER_BATCH, "*");
    consumer.registerMessageListener(
        DecryptingMessageListenerConcurrently.builder(
                cipher,
                consumer,
                (messages, context) -> {
                  batchSizes.add(messages.size());
                  inbox.addAll(messages);
                  return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                })
            .build());
    consumer.start();
    try {
      assertEquals(List.of(), inbox.await(List.of(firstKey, lastKey), TIMEOUT));
      assertEquals(TestClients.sha256(firstBody), inbox.first(firstKey).bodySha256());
      assertEquals(TestClients.sha256(lastBody), inbox.first(lastKey).bodySha256());
      assertEquals(List.of(2), batchSizes, "the application's batches");
      MessageExt dead = byKey(TopicReader.read(MixAll.getDLQTopic(group), 1, TIMEOUT)).get(badKey);
      assertNotNull(dead, "the tampered message is not in the DLQ");
      assertArrayEquals(tampered, dead.getBody());
      assertDiagnostics(dead, "authentication_failed", TestTopics.DEAD_LETTER_BATCH);
      assertEquals(List.of(), inbox.get(badKey));
    } finally {
      consumer.shutdown();
    }
  }

  /** Returns an envelope for {@code topic} with its last byte, part of the tag, flipped. */
  private byte[] tamperedEnvelope(String topic) {
    byte[] envelope =
        cipher.encrypt(TestClients.body(512), Map.of(MqsealProperties.CONTEXT_TOPIC, topic));
    envelope[envelope.length - 1] ^= 0x01;
    return envelope;
  }

  private static void assertDiagnostics(MessageExt dead, String errorName, String originTopic) {
    assertNotNull(dead, "message missing from the DLQ");
    assertEquals(
        errorName, dead.getProperty(MqsealProperties.ERROR_NAME), dead.getProperties().toString());
    assertNotNull(dead.getProperty(MqsealProperties.ERROR_CODE), dead.getProperties().toString());
    assertEquals("false", dead.getProperty(MqsealProperties.ERROR_RETRYABLE));
    assertEquals(originTopic, dead.getProperty(MessageConst.PROPERTY_RETRY_TOPIC));
    assertEquals(originTopic, DeadLetters.originalTopic(dead));
  }

  private static Map<String, MessageExt> byKey(List<MessageExt> messages) {
    Map<String, MessageExt> byKey = new HashMap<>();
    for (MessageExt message : messages) {
      byKey.putIfAbsent(message.getKeys(), message);
    }
    return byKey;
  }

  private static byte[] body(Map<String, MessageExt> messages, String key) {
    MessageExt message = messages.get(key);
    assertNotNull(message, key + " is not in the DLQ; found " + messages.keySet());
    return message.getBody();
  }
}
