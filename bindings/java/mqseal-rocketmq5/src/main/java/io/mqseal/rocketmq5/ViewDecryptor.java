package io.mqseal.rocketmq5;

import io.mqseal.Decrypted;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.EnvelopeMetadata;
import java.nio.ByteBuffer;
import java.util.HashMap;
import java.util.Map;
import java.util.function.Function;
import org.apache.rocketmq.client.apis.message.MessageView;

/** Decrypts delivered {@link MessageView}s into {@link DecryptedMessageView}s. */
final class ViewDecryptor {
  private final MqsealCipher cipher;
  private final boolean allowUnencrypted;
  private final Function<MessageView, String> logicalTopic;

  /**
   * @param logicalTopic returns the topic bound into the context of a delivered message. Views
   *     redelivered after a failure or an expired invisible duration carry the original topic
   *     (tested against the 5.3.3 proxy). NOTE: clients with a namespace in their {@code
   *     ClientConfiguration} are untested; the producer binds the topic without the namespace.
   */
  ViewDecryptor(
      MqsealCipher cipher, boolean allowUnencrypted, Function<MessageView, String> logicalTopic) {
    this.cipher = cipher;
    this.allowUnencrypted = allowUnencrypted;
    this.logicalTopic = logicalTopic;
  }

  /**
   * Returns the decrypted view of {@code view}. A body that is not an envelope is handed over
   * unchanged when unencrypted messages are allowed, and rejected otherwise.
   *
   * @throws MqsealException when the message cannot be decrypted
   */
  DecryptedMessageView decrypt(MessageView view) {
    byte[] body = bytes(view.getBody());
    Map<String, String> properties = new HashMap<>(view.getProperties());
    if (allowUnencrypted && !MqsealCipher.looksEncrypted(body)) {
      return new DecryptedMessageView(view, body, properties, false);
    }
    Map<String, String> context =
        Map.of(MqsealProperties.CONTEXT_TOPIC, logicalTopic.apply(view));
    Decrypted decrypted = cipher.decrypt(body, context);
    properties.putAll(decrypted.sealedProperties());
    return new DecryptedMessageView(view, decrypted.body(), properties, true);
  }

  /**
   * Returns "message ID on topic T (key K version V)" for logs, read from the envelope header; it
   * never contains body bytes or key material.
   */
  static String describe(MessageView view) {
    return "message "
        + view.getMessageId()
        + " on topic "
        + view.getTopic()
        + " ("
        + EnvelopeMetadata.describeKey(bytes(view.getBody()))
        + ")";
  }

  /** Copies the remaining bytes of {@code buffer} without moving its position. */
  static byte[] bytes(ByteBuffer buffer) {
    ByteBuffer copy = buffer.duplicate();
    byte[] out = new byte[copy.remaining()];
    copy.get(out);
    return out;
  }
}
