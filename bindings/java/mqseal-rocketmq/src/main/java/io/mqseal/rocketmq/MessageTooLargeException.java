package io.mqseal.rocketmq;

import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.remoting.protocol.ResponseCode;

/**
 * Thrown before sending when a message exceeds the producer's {@code maxMessageSize} once
 * encrypted. Nothing was sent.
 */
public class MessageTooLargeException extends MQClientException {
  private static final long serialVersionUID = 1L;

  private final String topic;
  private final long plaintextSize;
  private final long encryptedSize;
  private final int limit;

  MessageTooLargeException(
      String topic, long plaintextSize, long encryptedSize, int limit, String subject) {
    super(
        ResponseCode.MESSAGE_ILLEGAL,
        String.format(
            "%s for topic %s is too large once encrypted: the plaintext body is %d bytes and the"
                + " encrypted message %d bytes, over the producer's maxMessageSize of %d bytes;"
                + " send at most %d bytes fewer, or raise maxMessageSize on the producer and the"
                + " broker",
            subject, topic, plaintextSize, encryptedSize, limit, encryptedSize - limit));
    this.topic = topic;
    this.plaintextSize = plaintextSize;
    this.encryptedSize = encryptedSize;
    this.limit = limit;
  }

  /** Returns the topic the message was sent to, as the application named it. */
  public String getTopic() {
    return topic;
  }

  /** Returns the plaintext body size in bytes; for a batch, the sum over its messages. */
  public long getPlaintextSize() {
    return plaintextSize;
  }

  /**
   * Returns the size in bytes that the client checks against the limit: the envelope for a single
   * message, the encoded batch for a batch.
   */
  public long getEncryptedSize() {
    return encryptedSize;
  }

  /** Returns the producer's {@code maxMessageSize} in bytes. */
  public int getLimit() {
    return limit;
  }
}
