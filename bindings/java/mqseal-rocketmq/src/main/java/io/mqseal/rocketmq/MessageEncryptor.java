package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.apache.rocketmq.remoting.protocol.NamespaceUtil;

/**
 * Builds encrypted copies of outgoing messages and checks them against the producer's {@code
 * maxMessageSize}. The application's message keeps its plaintext body.
 */
final class MessageEncryptor {
  /**
   * Fixed bytes per message in an encoded batch: total size, magic code, body CRC, flag and body
   * length (4 bytes each), and the properties length (2 bytes), as written by {@code
   * MessageDecoder.encodeMessage} in RocketMQ 5.3.3.
   */
  private static final int BATCH_ENTRY_OVERHEAD = 4 + 4 + 4 + 4 + 4 + 2;

  /** Topic in which the 5.3.3 broker parks messages with a delivery time. */
  private static final String TIMER_TOPIC = "rmq_sys_wheel_timer";

  /**
   * Bytes reserved for the properties the broker adds to a timer record besides {@code REAL_TOPIC}:
   * {@code TIMER_OUT_MS}, {@code REAL_QID} and {@code CLUSTER}, with separators.
   *
   * <p>NOTE: an estimate read from the 5.3.3 broker source; it holds for cluster names of up to 180
   * characters.
   */
  private static final int TIMER_BROKER_PROPERTIES = 256;

  private final MqsealCipher cipher;
  private final SealedPropertySelector sealedSelector;

  MessageEncryptor(MqsealCipher cipher, SealedPropertySelector sealedSelector) {
    this.cipher = cipher;
    this.sealedSelector = sealedSelector;
  }

  /**
   * Returns a copy of {@code original} whose body is the envelope. Selected properties move into
   * the envelope; the rest, including tags, keys and delay settings, are copied. The copy and the
   * original share one message id (the {@code UNIQ_KEY} property), which this sets on the original
   * when it has none, as the client does.
   *
   * @throws io.mqseal.MqsealException when encryption fails; nothing is sent then
   */
  Message encrypt(Message original) {
    byte[] body = requireBody(original);
    String logicalTopic = logicalTopic(original);
    Map<String, String> properties = new HashMap<>();
    if (original.getProperties() != null) {
      properties.putAll(original.getProperties());
    }
    Map<String, String> sealed = sealedSelector.select(properties);
    Map<String, String> context = Map.of(MqsealProperties.CONTEXT_TOPIC, logicalTopic);

    byte[] envelope =
        sealed.isEmpty() ? cipher.encrypt(body, context) : cipher.encrypt(body, context, sealed);

    sealed.keySet().forEach(properties::remove);
    Message copy = new Message();
    copy.setTopic(original.getTopic());
    copy.setFlag(original.getFlag());
    copy.setTransactionId(original.getTransactionId());
    MessageAccessor.setProperties(copy, properties);
    copy.setBody(envelope);
    EncryptionMetadata.apply(copy, envelope, logicalTopic);

    MessageClientIDSetter.setUniqID(copy);
    if (MessageClientIDSetter.getUniqID(original) == null) {
      MessageAccessor.putProperty(
          original,
          MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
          MessageClientIDSetter.getUniqID(copy));
    }
    return copy;
  }

  /** Encrypts every message of a batch, then checks the encoded batch against {@code limit}. */
  List<Message> encryptBatch(Collection<? extends Message> originals, int limit)
      throws MessageTooLargeException {
    if (originals == null || originals.isEmpty()) {
      throw new IllegalArgumentException("the batch is empty; give at least one message");
    }
    List<Message> copies = new ArrayList<>(originals.size());
    long plaintextSize = 0;
    long encodedSize = 0;
    for (Message original : originals) {
      Message copy = encrypt(original);
      copies.add(copy);
      plaintextSize += requireBody(original).length;
      encodedSize += batchEntrySize(copy);
    }
    if (encodedSize > limit) {
      String topic = originals.iterator().next().getTopic();
      throw new MessageTooLargeException(
          topic, plaintextSize, encodedSize, limit, "a batch of " + copies.size() + " messages");
    }
    return copies;
  }

  /**
   * Throws when the encrypted copy of {@code original} exceeds {@code limit}, counted as {@link
   * #checkedSize} does.
   */
  static void checkSize(Message original, Message encrypted, int limit, String namespace)
      throws MessageTooLargeException {
    long checkedSize = checkedSize(encrypted, namespace);
    if (checkedSize > limit) {
      String subject =
          isTimerMessage(encrypted)
              ? "a message with a delivery time (its size includes "
                  + (checkedSize - encrypted.getBody().length)
                  + " bytes of topic and properties, which the broker's timer store counts)"
              : "a message";
      throw new MessageTooLargeException(
          original.getTopic(), requireBody(original).length, checkedSize, limit, subject);
    }
  }

  /**
   * Returns the size of {@code encrypted} that must not exceed {@code maxMessageSize}: the
   * envelope, and for messages with a delivery time also the timer topic name and the properties as
   * the broker stores them.
   *
   * <p>RocketMQ 5.3.3's timer store reads each timer record into a buffer of {@code maxMessageSize
   * + 100} bytes, where 100 covers the fixed record fields; a larger record makes its enqueue
   * thread fail on every attempt, which stops every timer message on that broker. The body, the
   * topic and the properties together must therefore stay within {@code maxMessageSize}.
   */
  static long checkedSize(Message encrypted, String namespace) {
    long size = encrypted.getBody().length;
    if (!isTimerMessage(encrypted)) {
      return size;
    }
    String wireTopic = NamespaceUtil.wrapNamespace(namespace, encrypted.getTopic());
    String properties = MessageDecoder.messageProperties2String(encrypted.getProperties());
    return size
        + TIMER_TOPIC.length()
        + properties.getBytes(StandardCharsets.UTF_8).length
        + MessageConst.PROPERTY_REAL_TOPIC.length()
        + 2
        + wireTopic.getBytes(StandardCharsets.UTF_8).length
        + TIMER_BROKER_PROPERTIES;
  }

  static boolean isTimerMessage(Message message) {
    return message.getProperty(MessageConst.PROPERTY_TIMER_DELIVER_MS) != null
        || message.getProperty(MessageConst.PROPERTY_TIMER_DELAY_SEC) != null
        || message.getProperty(MessageConst.PROPERTY_TIMER_DELAY_MS) != null;
  }

  /**
   * Returns the largest plaintext body that fits in {@code limit} once encrypted, for messages
   * shaped like {@code template} (same topic and sealed properties). Exact unless the cipher
   * compresses bodies.
   */
  int maxBodySize(Message template, int limit, String namespace) {
    Message empty = emptyCopy(template);
    return (int) Math.max(0, limit - checkedSize(empty, namespace));
  }

  /**
   * Like {@link #maxBodySize}, for a batch that contains one message shaped like {@code template}.
   */
  int maxBatchBodySize(Message template, int limit) {
    Message empty = emptyCopy(template);
    return (int) Math.max(0, limit - batchEntrySize(empty));
  }

  private Message emptyCopy(Message template) {
    Message probe = new Message();
    probe.setTopic(template.getTopic());
    probe.setFlag(template.getFlag());
    Map<String, String> properties = new HashMap<>();
    if (template.getProperties() != null) {
      properties.putAll(template.getProperties());
    }
    properties.remove(MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX);
    MessageAccessor.setProperties(probe, properties);
    probe.setBody(new byte[0]);
    return encrypt(probe);
  }

  /** Returns the size of {@code message} inside an encoded batch. */
  static long batchEntrySize(Message message) {
    String properties = MessageDecoder.messageProperties2String(message.getProperties());
    return BATCH_ENTRY_OVERHEAD
        + (long) message.getBody().length
        + properties.getBytes(StandardCharsets.UTF_8).length;
  }

  static String logicalTopic(Message message) {
    if (message.getTopic() == null || message.getTopic().isEmpty()) {
      throw new IllegalArgumentException("the message has no topic; set one before sending");
    }
    return LogicalTopics.ofOutgoing(message);
  }

  private static byte[] requireBody(Message message) {
    if (message == null) {
      throw new IllegalArgumentException("the message is null");
    }
    if (message.getBody() == null) {
      throw new IllegalArgumentException(
          "the message body of topic "
              + message.getTopic()
              + " is null; use an empty array for an empty body");
    }
    return message.getBody();
  }
}
