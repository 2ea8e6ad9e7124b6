package io.mqseal.rocketmq5;

import org.apache.rocketmq.client.apis.ClientException;

/**
 * Thrown before sending when a message exceeds a limit of the RocketMQ proxy once encrypted: the
 * body (the envelope) over the proxy's {@code maxMessageSize}, or the plain-text properties over the
 * proxy's {@code maxUserPropertySize} or {@code userPropertyMaxNum}. Nothing was sent.
 */
public class MessageTooLargeException extends ClientException {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final long size;
  private final long limit;

  MessageTooLargeException(String topic, long size, long limit, String message) {
    super(message);
    this.topic = topic;
    this.size = size;
    this.limit = limit;
  }

  static MessageTooLargeException body(String topic, long plaintextSize, long envelopeSize,
      long limit) {
    return new MessageTooLargeException(
        topic,
        envelopeSize,
        limit,
        String.format(
            "the message for topic %s is too large once encrypted: the plaintext body is %d bytes"
                + " and the envelope %d bytes, over the body limit of %d bytes; send at most %d"
                + " bytes fewer, or raise maxMessageSize on the proxy and the broker and"
                + " maxBodySize on the EncryptingProducer",
            topic, plaintextSize, envelopeSize, limit, envelopeSize - limit));
  }

  static MessageTooLargeException properties(String topic, long bytes, long limit) {
    return new MessageTooLargeException(
        topic,
        bytes,
        limit,
        String.format(
            "the properties of the message for topic %s are too large: property names and values,"
                + " tag and keys add up to %d bytes (UTF-8, including mqseal metadata), over the"
                + " proxy's limit of %d bytes; seal large properties (sealProperties), which"
                + " carries them inside the body, or raise maxUserPropertySize on the proxy and"
                + " maxPropertyBytes on the EncryptingProducer",
            topic, bytes, limit));
  }

  static MessageTooLargeException propertyCount(String topic, long count, long limit) {
    return new MessageTooLargeException(
        topic,
        count,
        limit,
        String.format(
            "the message for topic %s has %d plain-text properties including mqseal's metadata,"
                + " over the proxy's limit of %d; seal some of them (sealProperties)",
            topic, count, limit));
  }

  /** Returns the topic of the message, as the application named it. */
  public String getTopic() {
    return topic;
  }

  /** Returns the size that exceeded the limit: bytes, or a count of properties. */
  public long getSize() {
    return size;
  }

  /** Returns the limit that was exceeded, in the unit of {@link #getSize()}. */
  public long getLimit() {
    return limit;
  }
}
