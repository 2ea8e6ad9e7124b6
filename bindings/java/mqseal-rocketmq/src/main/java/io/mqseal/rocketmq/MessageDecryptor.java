package io.mqseal.rocketmq;

import io.mqseal.Decrypted;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.EnvelopeMetadata;
import java.util.Map;
import org.apache.rocketmq.common.message.MessageExt;

/** Decrypts received messages into new copies and describes them for logs. */
final class MessageDecryptor {
  private static final byte[] EMPTY = new byte[0];

  private final MqsealCipher cipher;
  private final boolean allowUnencrypted;

  MessageDecryptor(MqsealCipher cipher, boolean allowUnencrypted) {
    this.cipher = cipher;
    this.allowUnencrypted = allowUnencrypted;
  }

  /**
   * Returns a copy of {@code received} with the plaintext body and the sealed properties restored.
   * A body that is not an envelope is copied unchanged when unencrypted messages are allowed, and
   * rejected otherwise.
   *
   * @throws MqsealException when the message cannot be decrypted
   */
  Decryption decrypt(MessageExt received) {
    byte[] body = received.getBody() == null ? EMPTY : received.getBody();
    if (allowUnencrypted && !MqsealCipher.looksEncrypted(body)) {
      return new Decryption(MessageCopies.withBody(received, body.clone(), null), false);
    }
    String topic = LogicalTopics.ofReceived(received);
    Decrypted decrypted = cipher.decrypt(body, Map.of(MqsealProperties.CONTEXT_TOPIC, topic));
    MessageExt copy =
        MessageCopies.withBody(received, decrypted.body(), decrypted.sealedProperties());
    return new Decryption(copy, true);
  }

  /**
   * Returns "message ID on topic T (key K version V)" for logs, read from the envelope header; it
   * never contains body bytes or key material.
   */
  static String describe(MessageExt message) {
    return "message "
        + message.getMsgId()
        + " on topic "
        + message.getTopic()
        + " ("
        + EnvelopeMetadata.describeKey(message.getBody())
        + ")";
  }

  /** The decrypted copy and whether the received body was an envelope. */
  record Decryption(MessageExt message, boolean wasEncrypted) {}
}
