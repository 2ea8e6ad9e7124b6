package io.mqseal.rocketmq5;

import java.nio.ByteBuffer;
import java.util.Collection;
import java.util.Collections;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import org.apache.rocketmq.client.apis.message.MessageId;
import org.apache.rocketmq.client.apis.message.MessageView;

/**
 * A received message with its plaintext body and its sealed properties restored, and a reference to
 * the {@link MessageView} the client delivered.
 *
 * <p>Every field except the body and the properties comes from the original view. Acknowledge and
 * change the invisible duration with {@link #original()} (the {@link DecryptingSimpleConsumer}
 * methods do that), because the client accepts only its own views there. {@link #toString()} never
 * contains the body.
 */
public final class DecryptedMessageView implements MessageView {
  private final MessageView original;
  private final byte[] body;
  private final Map<String, String> properties;
  private final boolean wasEncrypted;

  DecryptedMessageView(
      MessageView original, byte[] body, Map<String, String> properties, boolean wasEncrypted) {
    this.original = Objects.requireNonNull(original, "original");
    this.body = body;
    this.properties = Collections.unmodifiableMap(properties);
    this.wasEncrypted = wasEncrypted;
  }

  /** Returns the view the client delivered, with the encrypted body. */
  public MessageView original() {
    return original;
  }

  /**
   * Returns true when the delivered body was an envelope, false for a plaintext body that the
   * consumer let through ({@code allowUnencrypted}).
   */
  public boolean wasEncrypted() {
    return wasEncrypted;
  }

  /** Returns a copy of the plaintext body. */
  public byte[] bodyBytes() {
    return body.clone();
  }

  @Override
  public MessageId getMessageId() {
    return original.getMessageId();
  }

  @Override
  public String getTopic() {
    return original.getTopic();
  }

  /** Returns the plaintext body as a read-only buffer. */
  @Override
  public ByteBuffer getBody() {
    return ByteBuffer.wrap(body).asReadOnlyBuffer();
  }

  /**
   * Returns the delivered properties, including mqseal's metadata, with the sealed properties
   * restored.
   */
  @Override
  public Map<String, String> getProperties() {
    return properties;
  }

  @Override
  public Optional<String> getTag() {
    return original.getTag();
  }

  @Override
  public Collection<String> getKeys() {
    return original.getKeys();
  }

  @Override
  public Optional<String> getMessageGroup() {
    return original.getMessageGroup();
  }

  @Override
  public Optional<String> getLiteTopic() {
    return original.getLiteTopic();
  }

  @Override
  public Optional<Long> getDeliveryTimestamp() {
    return original.getDeliveryTimestamp();
  }

  @Override
  public Optional<Integer> getPriority() {
    return original.getPriority();
  }

  @Override
  public String getBornHost() {
    return original.getBornHost();
  }

  @Override
  public long getBornTimestamp() {
    return original.getBornTimestamp();
  }

  @Override
  public int getDeliveryAttempt() {
    return original.getDeliveryAttempt();
  }

  /** Describes the message without its body or property values. */
  @Override
  public String toString() {
    return "DecryptedMessageView{messageId="
        + getMessageId()
        + ", topic="
        + getTopic()
        + ", bodyLength="
        + body.length
        + ", propertyNames="
        + properties.keySet()
        + ", deliveryAttempt="
        + getDeliveryAttempt()
        + ", wasEncrypted="
        + wasEncrypted
        + "}";
  }
}
