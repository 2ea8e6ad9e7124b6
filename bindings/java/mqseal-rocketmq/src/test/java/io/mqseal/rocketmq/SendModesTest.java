package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Round trips through the broker for every send mode and body size. */
@ExtendWith(RocketMqBroker.class)
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
class SendModesTest {
  private static final int MAX_MESSAGE_SIZE = 4 * 1024 * 1024;
  private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(90);

  /** Every way EncryptingProducer can send. */
  enum Mode {
    SYNC(TestTopics.SYNC),
    ASYNC(TestTopics.ASYNC),
    ONEWAY(TestTopics.ONEWAY),
    BATCH(TestTopics.BATCH),
    DELAY_LEVEL(TestTopics.DELAY_LEVEL),
    DELIVER_TIME(TestTopics.DELIVER_TIME),
    ORDERLY(TestTopics.ORDERLY),
    TRANSACTION(TestTopics.TRANSACTION);

    final String topic;

    Mode(String topic) {
      this.topic = topic;
    }
  }

  @TempDir static Path keyDir;

  private MqsealCipher cipher;
  private EncryptingProducer producer;
  private EncryptingProducer transactionalProducer;
  private DefaultMQPushConsumer consumer;
  private DefaultMQPushConsumer orderlyConsumer;
  private final Inbox inbox = new Inbox();

  /** Application messages that executeLocalTransaction must receive, by key. */
  private final Map<String, Message> transactionOriginals = new ConcurrentHashMap<>();

  private final List<String> transactionProblems = new CopyOnWriteArrayList<>();
  private final Map<String, String> checkedBodies = new ConcurrentHashMap<>();
  private final List<String> selectorProblems = new CopyOnWriteArrayList<>();

  @BeforeAll
  void startClients() throws Exception {
    cipher = TestClients.cipher(TestClients.newKeyring(keyDir));

    producer =
        EncryptingProducer.builder(TestClients.producer(TestTopics.group("modes-producer")), cipher)
            .build();
    producer.start();

    TransactionMQProducer transactional =
        TestClients.transactionProducer(TestTopics.group("modes-tx"));
    transactionalProducer = EncryptingProducer.builder(transactional, cipher).build();
    transactionalProducer.setTransactionListener(new RecordingTransactionListener());
    transactionalProducer.start();

    consumer = TestClients.pushConsumer(TestTopics.group("modes-consumer"));
    for (Mode mode : Mode.values()) {
      if (mode != Mode.ORDERLY) {
        consumer.subscribe(mode.topic, "*");
      }
    }
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

    orderlyConsumer = TestClients.pushConsumer(TestTopics.group("modes-orderly"));
    orderlyConsumer.subscribe(Mode.ORDERLY.topic, "*");
    orderlyConsumer.registerMessageListener(
        DecryptingMessageListenerOrderly.builder(
                cipher,
                orderlyConsumer,
                (messages, context) -> {
                  inbox.addAll(messages);
                  return ConsumeOrderlyStatus.SUCCESS;
                })
            .build());
    orderlyConsumer.start();
  }

  @AfterAll
  void stopClients() {
    if (consumer != null) {
      consumer.shutdown();
    }
    if (orderlyConsumer != null) {
      orderlyConsumer.shutdown();
    }
    if (producer != null) {
      producer.shutdown();
    }
    if (transactionalProducer != null) {
      transactionalProducer.shutdown();
    }
    if (cipher != null) {
      cipher.close();
    }
  }

  @ParameterizedTest
  @EnumSource(Mode.class)
  void roundTripsEveryBodySize(Mode mode) throws Exception {
    EncryptingProducer sender = mode == Mode.TRANSACTION ? transactionalProducer : producer;
    String prefix = mode.name().toLowerCase();
    // The largest body depends on the properties, so the "fits" and "over" keys and the
    // template's key have the same length.
    String fitsKey = TestClients.uniqueId(prefix + "-fits");
    String oversizeKey = TestClients.uniqueId(prefix + "-over");
    Message template = message(mode, fitsKey, new byte[0]);
    int largest =
        mode == Mode.BATCH ? sender.maxBatchBodySize(template) : sender.maxBodySize(template);
    assertTrue(
        largest > MAX_MESSAGE_SIZE - 1024, "largest body for " + mode + " is only " + largest);

    Map<String, Integer> sizes = new LinkedHashMap<>();
    sizes.put(TestClients.uniqueId(prefix + "-0b"), 0);
    sizes.put(TestClients.uniqueId(prefix + "-1kib"), 1024);
    sizes.put(TestClients.uniqueId(prefix + "-1mib"), 1024 * 1024);
    sizes.put(fitsKey, largest);
    Map<String, String> expected = new LinkedHashMap<>();
    long sentAt = System.currentTimeMillis();
    for (Map.Entry<String, Integer> size : sizes.entrySet()) {
      byte[] body = TestClients.body(size.getValue());
      expected.put(size.getKey(), TestClients.sha256(body));
      send(mode, sender, message(mode, size.getKey(), body));
    }

    List<String> missing = inbox.await(expected.keySet(), DELIVERY_TIMEOUT);
    assertEquals(List.of(), missing, mode + ": messages not delivered");
    for (Map.Entry<String, String> entry : expected.entrySet()) {
      Inbox.Delivery delivery = inbox.first(entry.getKey());
      assertEquals(entry.getValue(), delivery.bodySha256(), mode + ": body of " + entry.getKey());
      assertEquals(mode.topic, delivery.topic(), mode + ": topic of " + entry.getKey());
      assertEquals(mode.topic, delivery.properties().get(MqsealProperties.TOPIC));
      assertEquals(TestClients.KEY_NAME, delivery.properties().get(MqsealProperties.KEY_ID));
    }

    Message oversize = message(mode, oversizeKey, TestClients.body(largest + 1));
    MessageTooLargeException error =
        assertThrows(MessageTooLargeException.class, () -> send(mode, sender, oversize));
    assertEquals(largest + 1, error.getPlaintextSize());
    assertEquals(MAX_MESSAGE_SIZE + 1, error.getEncryptedSize());
    assertEquals(MAX_MESSAGE_SIZE, error.getLimit());
    assertTrue(
        error.getErrorMessage().contains(Integer.toString(largest + 1)), error.getErrorMessage());
    assertTrue(
        error.getErrorMessage().contains(Integer.toString(MAX_MESSAGE_SIZE + 1)),
        error.getErrorMessage());
    assertTrue(
        error.getErrorMessage().contains(Integer.toString(MAX_MESSAGE_SIZE)),
        error.getErrorMessage());

    checkModeSpecifics(mode, expected, sentAt);

    Thread.sleep(1_000);
    assertEquals(List.of(), inbox.get(oversizeKey), mode + ": the oversized message was delivered");
  }

  @Test
  void transactionCheckSeesDecryptedHalfMessage() throws Exception {
    String key = TestClients.uniqueId("tx-check");
    byte[] body = TestClients.body(2048);
    Message message = message(Mode.TRANSACTION, key, body);
    transactionOriginals.put(key, message);
    // "unknown" makes executeLocalTransaction return UNKNOW, so the broker checks later.
    TransactionSendResult result =
        transactionalProducer.sendMessageInTransaction(message, "unknown");
    assertEquals(LocalTransactionState.UNKNOW, result.getLocalTransactionState());

    List<String> missing = inbox.await(List.of(key), DELIVERY_TIMEOUT);
    assertEquals(List.of(), missing, "the checked transaction was not committed");
    assertEquals(TestClients.sha256(body), checkedBodies.get(key), "checkLocalTransaction body");
    assertEquals(TestClients.sha256(body), inbox.first(key).bodySha256());
  }

  private void checkModeSpecifics(Mode mode, Map<String, String> expected, long sentAt) {
    switch (mode) {
      case ORDERLY -> {
        assertEquals(List.of(), selectorProblems);
        long previous = 0;
        for (String key : expected.keySet()) {
          long sequence = inbox.first(key).sequence();
          assertTrue(sequence > previous, "orderly delivery out of order at " + key);
          previous = sequence;
        }
      }
      case TRANSACTION -> assertEquals(List.of(), transactionProblems);
      case DELAY_LEVEL, DELIVER_TIME -> {
        for (String key : expected.keySet()) {
          long waited = inbox.first(key).receivedAtMillis() - sentAt;
          assertTrue(waited >= 900, mode + ": " + key + " arrived after only " + waited + " ms");
        }
      }
      default -> {}
    }
  }

  private static Message message(Mode mode, String key, byte[] body) {
    Message message = new Message(mode.topic, "tagA", key, body);
    if (mode == Mode.DELAY_LEVEL) {
      message.setDelayTimeLevel(1);
    } else if (mode == Mode.DELIVER_TIME) {
      message.setDeliverTimeMs(System.currentTimeMillis() + 3_000);
    }
    return message;
  }

  private void send(Mode mode, EncryptingProducer sender, Message message) throws Exception {
    switch (mode) {
      case SYNC, DELAY_LEVEL, DELIVER_TIME -> assertSent(sender.send(message));
      case ASYNC -> {
        CompletableFuture<SendResult> result = new CompletableFuture<>();
        sender.send(
            message,
            new SendCallback() {
              @Override
              public void onSuccess(SendResult sendResult) {
                result.complete(sendResult);
              }

              @Override
              public void onException(Throwable e) {
                result.completeExceptionally(e);
              }
            });
        assertSent(result.get(60, TimeUnit.SECONDS));
      }
      case ONEWAY -> sender.sendOneway(message);
      case BATCH -> assertSent(sender.send(List.of(message)));
      case ORDERLY -> {
        byte[] expectedBody = message.getBody();
        assertSent(
            sender.send(
                message,
                (queues, selected, arg) -> {
                  if (selected.getBody() != expectedBody) {
                    selectorProblems.add("the selector got another body for " + selected.getKeys());
                  }
                  return queues.get((Integer) arg % queues.size());
                },
                0));
      }
      case TRANSACTION -> {
        transactionOriginals.put(message.getKeys(), message);
        TransactionSendResult result = sender.sendMessageInTransaction(message, "commit");
        assertEquals(LocalTransactionState.COMMIT_MESSAGE, result.getLocalTransactionState());
        assertNotNull(message.getTransactionId(), "transaction id on the application's message");
      }
      default -> throw new IllegalArgumentException("unknown mode " + mode);
    }
  }

  private static void assertSent(SendResult result) {
    assertEquals(SendStatus.SEND_OK, result.getSendStatus(), result.toString());
  }

  /** Checks what the transaction callbacks receive and records the checked bodies. */
  private final class RecordingTransactionListener implements TransactionListener {
    @Override
    public LocalTransactionState executeLocalTransaction(Message message, Object arg) {
      Message original = transactionOriginals.get(message.getKeys());
      if (original != message) {
        transactionProblems.add("executeLocalTransaction got a copy of " + message.getKeys());
      }
      return "unknown".equals(arg)
          ? LocalTransactionState.UNKNOW
          : LocalTransactionState.COMMIT_MESSAGE;
    }

    @Override
    public LocalTransactionState checkLocalTransaction(MessageExt message) {
      checkedBodies.put(message.getKeys(), TestClients.sha256(message.getBody()));
      return LocalTransactionState.COMMIT_MESSAGE;
    }
  }
}
