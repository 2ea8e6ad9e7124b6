package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.Transaction;
import org.apache.rocketmq.client.apis.producer.TransactionChecker;
import org.apache.rocketmq.client.apis.producer.TransactionResolution;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** Transactional sends: commit, rollback, and the broker's check with a decrypted view. */
@Order(2)
@ExtendWith(RocketMqProxy.class)
class TransactionTest {
  private static final Duration WAIT = Duration.ofSeconds(120);

  @TempDir Path dir;

  @Test
  void commitRollbackAndCheck() throws Exception {
    Path keyring = TestClients.newKeyring(dir);
    String run = TestClients.randomHex(4);
    String committed = "commit-" + run;
    String rolledBack = "rollback-" + run;
    String checked = "checked-" + run;
    byte[] checkedBody = TestClients.body(4096);
    Map<String, byte[]> checkerSaw = new ConcurrentHashMap<>();
    Map<String, Boolean> checkerGotDecryptedView = new ConcurrentHashMap<>();
    TransactionChecker checker =
        (MessageView view) -> {
          String key = view.getKeys().iterator().next();
          checkerSaw.put(key, TestClients.bytes(view.getBody()));
          checkerGotDecryptedView.put(key, view instanceof DecryptedMessageView);
          return key.startsWith("checked-")
              ? TransactionResolution.COMMIT
              : TransactionResolution.ROLLBACK;
        };
    Inbox inbox = new Inbox();
    try (MqsealCipher cipher = TestClients.cipher(keyring);
        PushConsumer consumer =
            DecryptingMessageListener.builder(cipher, inbox)
                .build()
                .buildConsumer(
                    TestClients.pushConsumer(TestNames.TRANSACTION_GROUP, TestNames.TRANSACTION));
        Producer producer =
            TestClients.transactionalProducer(
                DecryptingTransactionChecker.wrap(cipher, checker), TestNames.TRANSACTION)) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();

      Transaction rollback = facade.beginTransaction();
      facade.send(message(rolledBack, TestClients.body(100)), rollback);
      rollback.rollback();

      // Left open: the broker asks the checker, which sees the plaintext and commits.
      Transaction open = facade.beginTransaction();
      facade.send(message(checked, checkedBody), open);

      Transaction commit = facade.beginTransaction();
      byte[] committedBody = TestClients.body(100);
      facade.send(message(committed, committedBody), commit);
      commit.commit();

      List<String> missing = inbox.await(List.of(committed, checked), WAIT);
      assertTrue(missing.isEmpty(), "not delivered: " + missing);
      assertArrayEquals(committedBody, inbox.first(committed).body(), "committed body");
    }
    assertArrayEquals(checkedBody, inbox.first(checked).body(), "body committed by the checker");
    assertArrayEquals(checkedBody, checkerSaw.get(checked), "the checker saw the plaintext");
    assertEquals(Boolean.TRUE, checkerGotDecryptedView.get(checked));
    assertTrue(inbox.get(rolledBack).isEmpty(), "a rolled-back message was delivered");
  }

  private static Message message(String key, byte[] body) {
    return TestClients.PROVIDER
        .newMessageBuilder()
        .setTopic(TestNames.TRANSACTION)
        .setKeys(key)
        .setBody(body)
        .build();
  }
}
