package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The simple consumer helper returns decrypted views and acknowledges with the originals. */
@Order(5)
@ExtendWith(RocketMqProxy.class)
class SimpleConsumerTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final Duration INVISIBLE = Duration.ofSeconds(10);

  @TempDir Path dir;

  @Test
  void ackUsesOriginalView() throws Exception {
    String run = TestClients.randomHex(4);
    String acked = "acked-" + run;
    String unacked = "unacked-" + run;
    byte[] ackedBody = TestClients.body(700);
    byte[] unackedBody = TestClients.body(900);
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(dir));
        Producer producer = TestClients.producer(TestNames.SIMPLE);
        DecryptingSimpleConsumer consumer =
            DecryptingSimpleConsumer.builder(
                    TestClients.simpleConsumer(TestNames.SIMPLE_GROUP, TestNames.SIMPLE), cipher)
                .build()) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();
      facade.send(message(acked, ackedBody));
      facade.send(message(unacked, unackedBody));

      List<DecryptedMessageView> first = receiveUntil(consumer, List.of(acked, unacked));
      DecryptedMessageView ackedView = find(first, acked);
      DecryptedMessageView unackedView = find(first, unacked);
      assertArrayEquals(ackedBody, ackedView.bodyBytes());
      assertArrayEquals(unackedBody, unackedView.bodyBytes());
      assertFalse(
          Arrays.equals(
              ackedBody, TestClients.bytes(ackedView.original().getBody())),
          "the original view should keep the envelope");

      // The client accepts only its own views.
      assertThrows(Exception.class, () -> consumer.getConsumer().ack(ackedView));
      consumer.ack(ackedView);

      // The unacknowledged message comes back after its invisible duration; the acknowledged
      // one does not.
      List<DecryptedMessageView> again = receiveUntil(consumer, List.of(unacked));
      DecryptedMessageView redelivered = find(again, unacked);
      assertEquals(2, redelivered.getDeliveryAttempt());
      assertTrue(find(again, acked) == null, "the acknowledged message was delivered again");
      consumer.changeInvisibleDuration(redelivered, Duration.ofSeconds(30));
      consumer.ack(redelivered);
    }
  }

  private static List<DecryptedMessageView> receiveUntil(
      DecryptingSimpleConsumer consumer, List<String> keys) throws Exception {
    List<DecryptedMessageView> received = new ArrayList<>();
    long deadline = System.nanoTime() + WAIT.toNanos();
    while (System.nanoTime() < deadline) {
      received.addAll(consumer.receive(16, INVISIBLE));
      boolean all = true;
      for (String key : keys) {
        all &= find(received, key) != null;
      }
      if (all) {
        return received;
      }
    }
    for (String key : keys) {
      assertNotNull(find(received, key), key + " was not received");
    }
    return received;
  }

  private static DecryptedMessageView find(List<DecryptedMessageView> views, String key) {
    for (DecryptedMessageView view : views) {
      if (view.getKeys().contains(key)) {
        return view;
      }
    }
    return null;
  }

  private static Message message(String key, byte[] body) {
    return TestClients.PROVIDER
        .newMessageBuilder()
        .setTopic(TestNames.SIMPLE)
        .setKeys(key)
        .setBody(body)
        .build();
  }
}
