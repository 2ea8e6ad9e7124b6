package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq.common.testing.Markers;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The plaintext guard rejects unencrypted sends to encrypted topics and lets the rest through. */
@ExtendWith(RocketMqBroker.class)
class PlaintextGuardTest {
  @TempDir Path keyDir;

  @Test
  void guardRejectsPlaintextToEncryptedTopic() throws Exception {
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(keyDir))) {
      DefaultMQProducer plain = TestClients.producer(TestTopics.group("guard-plain"));
      plain.setRetryTimesWhenSendFailed(0);
      PlaintextGuardHook.register(plain, PlaintextGuardHook.forTopics(TestTopics.GUARDED));
      DefaultMQProducer underlying = TestClients.producer(TestTopics.group("guard-encrypting"));
      PlaintextGuardHook.register(underlying, PlaintextGuardHook.forTopics(TestTopics.GUARDED));
      EncryptingProducer encrypting = EncryptingProducer.builder(underlying, cipher).build();
      plain.start();
      encrypting.start();
      try {
        String marker = Markers.plaintext();
        Markers.unregisterPlaintext(marker); // rejected before it reaches the broker
        byte[] body = ("plaintext " + marker).getBytes(StandardCharsets.US_ASCII);

        MQClientException rejected =
            assertThrows(
                MQClientException.class,
                () -> plain.send(new Message(TestTopics.GUARDED, "tagA", "k1", body)));
        String reason = guardMessage(rejected);
        assertTrue(reason.contains("a message to topic " + TestTopics.GUARDED), reason);

        MQClientException batch =
            assertThrows(
                MQClientException.class,
                () ->
                    plain.send(
                        List.of(
                            new Message(TestTopics.GUARDED, "tagA", "k2", cipher.encrypt(body)),
                            new Message(TestTopics.GUARDED, "tagA", "k3", body))));
        assertTrue(guardMessage(batch).contains("message 1 of a batch"), guardMessage(batch));

        MQClientException oneway =
            assertThrows(
                MQClientException.class,
                () -> plain.sendOneway(new Message(TestTopics.GUARDED, "tagA", "k4", body)));
        assertTrue(guardMessage(oneway).contains(TestTopics.GUARDED), guardMessage(oneway));

        String otherMarker = Markers.plaintext();
        Markers.sentUnencrypted(otherMarker); // the topic is not guarded
        byte[] otherBody = ("plaintext " + otherMarker).getBytes(StandardCharsets.US_ASCII);
        assertEquals(
            SendStatus.SEND_OK,
            plain.send(new Message(TestTopics.UNGUARDED, "tagA", "k5", otherBody)).getSendStatus());

        assertEquals(
            SendStatus.SEND_OK,
            encrypting
                .send(new Message(TestTopics.GUARDED, "tagA", "k6", TestClients.body(200)))
                .getSendStatus());
      } finally {
        plain.shutdown();
        encrypting.shutdown();
      }
    }
  }

  /** Returns the guard's message from the cause chain; the client wraps it after its retries. */
  private static String guardMessage(Throwable error) {
    for (Throwable cause = error; cause != null; cause = cause.getCause()) {
      if (cause instanceof MQClientException
          && String.valueOf(((MQClientException) cause).getErrorMessage())
              .contains("not an mqseal envelope")) {
        return ((MQClientException) cause).getErrorMessage();
      }
    }
    return "no guard rejection in " + error;
  }
}
