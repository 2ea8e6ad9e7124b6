package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.EnvelopeMetadata;
import io.mqseal.rocketmq.common.PropertySealing;
import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.message.MessageBuilder;

/**
 * Builds encrypted copies of outgoing 5.x messages and checks them against the proxy's limits
 * before anything is sent.
 */
final class OutgoingEncryptor {
  private final ClientServiceProvider provider;
  private final MqsealCipher cipher;
  private final PropertySealing sealing;
  private final int maxBodySize;
  private final int maxPropertyBytes;
  private final int maxPropertyCount;

  OutgoingEncryptor(
      ClientServiceProvider provider,
      MqsealCipher cipher,
      PropertySealing sealing,
      int maxBodySize,
      int maxPropertyBytes,
      int maxPropertyCount) {
    this.provider = provider;
    this.cipher = cipher;
    this.sealing = sealing;
    this.maxBodySize = maxBodySize;
    this.maxPropertyBytes = maxPropertyBytes;
    this.maxPropertyCount = maxPropertyCount;
  }

  /**
   * Returns a copy of {@code original} whose body is the envelope bound to {@code {topic: <topic>}}.
   * Selected properties move into the envelope; tag, keys, message group, delivery timestamp and
   * the other properties are copied, and mqseal's metadata properties are added.
   *
   * @throws IllegalArgumentException when a plain-text field contains a control character
   * @throws MessageTooLargeException when the envelope or the properties exceed the proxy's limits
   * @throws io.mqseal.MqsealException when encryption fails
   */
  Message encrypt(Message original) throws MessageTooLargeException {
    if (original == null) {
      throw new IllegalArgumentException("the message is null");
    }
    String topic = original.getTopic();
    byte[] body = ViewDecryptor.bytes(original.getBody());
    Map<String, String> properties = new LinkedHashMap<>(original.getProperties());
    Map<String, String> sealed = sealing.select(properties);
    sealed.keySet().forEach(properties::remove);
    checkPlainText(original, properties);

    Map<String, String> context = Map.of(MqsealProperties.CONTEXT_TOPIC, topic);
    byte[] envelope =
        sealed.isEmpty() ? cipher.encrypt(body, context) : cipher.encrypt(body, context, sealed);
    if (envelope.length > maxBodySize) {
      throw MessageTooLargeException.body(topic, body.length, envelope.length, maxBodySize);
    }
    properties.putAll(EnvelopeMetadata.of(envelope, topic));
    checkPropertySize(original, properties);

    MessageBuilder builder = provider.newMessageBuilder().setTopic(topic).setBody(envelope);
    original.getTag().ifPresent(builder::setTag);
    if (!original.getKeys().isEmpty()) {
      builder.setKeys(original.getKeys().toArray(new String[0]));
    }
    original.getMessageGroup().ifPresent(builder::setMessageGroup);
    original.getLiteTopic().ifPresent(builder::setLiteTopic);
    original.getDeliveryTimestamp().ifPresent(builder::setDeliveryTimestamp);
    original.getPriority().ifPresent(builder::setPriority);
    properties.forEach(builder::addProperty);
    return builder.build();
  }

  /**
   * Returns the largest plaintext body that fits under the body limit once encrypted, for messages
   * shaped like {@code template} (same topic and sealed properties). Exact unless the cipher
   * compresses bodies.
   */
  int maxBodySize(Message template) {
    Map<String, String> sealed = sealing.select(template.getProperties());
    Map<String, String> context = Map.of(MqsealProperties.CONTEXT_TOPIC, template.getTopic());
    int overhead =
        sealed.isEmpty()
            ? cipher.encryptedLength(0, context)
            : cipher.encrypt(new byte[0], context, sealed).length;
    return Math.max(0, maxBodySize - overhead);
  }

  /**
   * Rejects control characters in the fields that travel in plain text, because the proxy rejects
   * them with a less specific error (RocketMQ 5.3.3 {@code GrpcValidator}).
   */
  private static void checkPlainText(Message original, Map<String, String> properties) {
    String topic = original.getTopic();
    original.getTag().ifPresent(tag -> checkText(topic, "the tag", tag));
    for (String key : original.getKeys()) {
      checkText(topic, "the message key", key);
    }
    original.getMessageGroup().ifPresent(group -> checkText(topic, "the message group", group));
    for (Map.Entry<String, String> entry : properties.entrySet()) {
      checkText(topic, "the name of property '" + printable(entry.getKey()) + "'", entry.getKey());
      checkText(topic, "the value of property '" + printable(entry.getKey()) + "'",
          entry.getValue());
    }
  }

  private static void checkText(String topic, String field, String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (Character.isISOControl(c)) {
        throw new IllegalArgumentException(
            String.format(
                "%s of the message for topic %s contains the control character U+%04X at index %d;"
                    + " the RocketMQ proxy rejects control characters in plain-text fields:"
                    + " remove or percent-encode it, or seal the property (sealProperties), which"
                    + " carries it inside the envelope",
                field, topic, (int) c, i));
      }
    }
  }

  private void checkPropertySize(Message original, Map<String, String> properties)
      throws MessageTooLargeException {
    String topic = original.getTopic();
    if (properties.size() > maxPropertyCount) {
      throw MessageTooLargeException.propertyCount(topic, properties.size(), maxPropertyCount);
    }
    long bytes = 0;
    for (Map.Entry<String, String> entry : properties.entrySet()) {
      bytes += utf8Length(entry.getKey()) + utf8Length(entry.getValue());
    }
    bytes += original.getTag().map(OutgoingEncryptor::utf8Length).orElse(0);
    bytes += keysLength(original.getKeys());
    if (bytes > maxPropertyBytes) {
      throw MessageTooLargeException.properties(topic, bytes, maxPropertyBytes);
    }
  }

  private static long keysLength(Collection<String> keys) {
    long total = 0;
    for (String key : keys) {
      total += utf8Length(key);
    }
    return total;
  }

  private static int utf8Length(String value) {
    return value.getBytes(StandardCharsets.UTF_8).length;
  }

  /** Returns {@code name} with control characters shown as \\uXXXX, for error messages. */
  private static String printable(String name) {
    StringBuilder out = new StringBuilder(name.length());
    for (int i = 0; i < name.length(); i++) {
      char c = name.charAt(i);
      if (Character.isISOControl(c)) {
        out.append(String.format("\\u%04X", (int) c));
      } else {
        out.append(c);
      }
    }
    return out.toString();
  }
}
