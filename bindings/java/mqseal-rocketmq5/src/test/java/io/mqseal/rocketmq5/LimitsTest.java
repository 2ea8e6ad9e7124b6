package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.MqsealCipher;
import java.nio.file.Path;
import java.util.concurrent.ExecutionException;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageBuilder;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.SendReceipt;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The facade rejects what the proxy would reject, before sending, with a clear error. */
@Order(4)
@ExtendWith(RocketMqProxy.class)
class LimitsTest {
  @TempDir Path dir;

  @Test
  void oversizeBodyRejectedBeforeSending() throws Exception {
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(dir));
        Producer producer = TestClients.producer(TestNames.LIMITS)) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();
      Message template = message(new byte[1]).build();
      int max = facade.maxBodySize(template);
      assertTrue(max > EncryptingProducer.DEFAULT_MAX_BODY_SIZE - 1024, "overhead " + max);

      SendReceipt receipt = facade.send(message(TestClients.body(max)).build());
      assertNotNull(receipt.getMessageId(), "the largest body that fits was not sent");

      MessageTooLargeException error =
          assertThrows(
              MessageTooLargeException.class,
              () -> facade.send(message(TestClients.body(max + 1)).build()));
      assertEquals(EncryptingProducer.DEFAULT_MAX_BODY_SIZE, error.getLimit());
      assertEquals(EncryptingProducer.DEFAULT_MAX_BODY_SIZE + 1, error.getSize());
      assertTrue(error.getMessage().contains(TestNames.LIMITS), error.getMessage());
      assertTrue(error.getMessage().contains("maxMessageSize"), error.getMessage());

      ExecutionException async =
          assertThrows(
              ExecutionException.class,
              () -> facade.sendAsync(message(TestClients.body(max + 1)).build()).get());
      assertTrue(async.getCause() instanceof MessageTooLargeException, async.toString());
    }
  }

  @Test
  void controlCharactersRejected() throws Exception {
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(dir));
        Producer producer = TestClients.producer(TestNames.LIMITS)) {
      EncryptingProducer facade =
          EncryptingProducer.builder(producer, cipher).sealProperties("note").build();
      byte[] body = TestClients.body(10);

      IllegalArgumentException value =
          assertThrows(
              IllegalArgumentException.class,
              () -> facade.send(message(body).addProperty("region", "eu\u0001west").build()));
      assertTrue(value.getMessage().contains("value of property 'region'"), value.getMessage());
      assertTrue(value.getMessage().contains("U+0001"), value.getMessage());

      IllegalArgumentException name =
          assertThrows(
              IllegalArgumentException.class,
              () -> facade.send(message(body).addProperty("re\ngion", "eu").build()));
      assertTrue(name.getMessage().contains("name of property 're\\u000Agion'"), name.getMessage());

      IllegalArgumentException tag =
          assertThrows(
              IllegalArgumentException.class,
              () -> facade.send(message(body).setTag("a\tb").build()));
      assertTrue(tag.getMessage().contains("the tag"), tag.getMessage());

      // A sealed property travels inside the envelope, where control characters are allowed.
      SendReceipt receipt =
          facade.send(message(body).addProperty("note", "line one\nline two").build());
      assertNotNull(receipt.getMessageId());
    }
  }

  @Test
  void oversizePropertiesRejected() throws Exception {
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(dir));
        Producer producer = TestClients.producer(TestNames.LIMITS)) {
      EncryptingProducer facade = EncryptingProducer.builder(producer, cipher).build();
      String large = "x".repeat(EncryptingProducer.DEFAULT_MAX_PROPERTY_BYTES);
      MessageTooLargeException error =
          assertThrows(
              MessageTooLargeException.class,
              () -> facade.send(message(TestClients.body(10)).addProperty("p", large).build()));
      assertEquals(EncryptingProducer.DEFAULT_MAX_PROPERTY_BYTES, error.getLimit());
      assertTrue(error.getMessage().contains("sealProperties"), error.getMessage());

      EncryptingProducer sealing =
          EncryptingProducer.builder(producer, cipher).sealProperties("p").build();
      SendReceipt receipt =
          sealing.send(message(TestClients.body(10)).addProperty("p", large).build());
      assertNotNull(receipt.getMessageId(), "a sealed large property was not sent");
    }
  }

  private static MessageBuilder message(byte[] body) {
    return TestClients.PROVIDER
        .newMessageBuilder()
        .setTopic(TestNames.LIMITS)
        .setKeys("limits-" + TestClients.randomHex(4))
        .setBody(body);
  }
}
