package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import java.io.Closeable;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.MessageView;

/**
 * Receives from a 5.x {@link SimpleConsumer} and returns decrypted views.
 *
 * <p>{@link #receive} returns a {@link DecryptedMessageView} for every message it could decrypt;
 * {@link #ack} and {@link #changeInvisibleDuration} take that view and pass its {@link
 * DecryptedMessageView#original() original} to the client, which accepts only its own views.
 *
 * <p>A message that cannot be decrypted is not returned. It is logged (message id, topic, key id
 * and version, error code) and left invisible, so it is delivered again when its invisible duration
 * ends, and the proxy moves it to {@code %DLQ%<group>} with its body unchanged once the group's
 * maximum delivery attempts are used up ({@code retryMaxTimes + 1}). Unlike the push listener it is
 * not dead-lettered at once, because the client exposes no way to do that for a simple consumer.
 */
public final class DecryptingSimpleConsumer implements Closeable {
  private final SimpleConsumer consumer;
  private final ViewDecryptor decryptor;

  private DecryptingSimpleConsumer(Builder builder) {
    this.consumer = builder.consumer;
    Map<String, String> logicalTopics = Map.copyOf(builder.logicalTopics);
    this.decryptor =
        new ViewDecryptor(
            builder.cipher,
            builder.allowUnencrypted,
            view -> logicalTopics.getOrDefault(view.getTopic(), view.getTopic()));
  }

  /** Starts a builder for a helper over {@code consumer} that decrypts with {@code cipher}. */
  public static Builder builder(SimpleConsumer consumer, MqsealCipher cipher) {
    return new Builder(consumer, cipher);
  }

  /** Returns the underlying consumer, whose own methods return encrypted views. */
  public SimpleConsumer getConsumer() {
    return consumer;
  }

  /**
   * Receives up to {@code maxMessageNum} messages, invisible to other consumers for {@code
   * invisibleDuration}, and returns the decrypted ones in delivery order.
   */
  public List<DecryptedMessageView> receive(int maxMessageNum, Duration invisibleDuration)
      throws ClientException {
    List<MessageView> received = consumer.receive(maxMessageNum, invisibleDuration);
    List<DecryptedMessageView> decrypted = new ArrayList<>(received.size());
    for (MessageView view : received) {
      try {
        decrypted.add(decryptor.decrypt(view));
      } catch (MqsealException e) {
        FailureLog.log(
            view,
            e,
            "it stays invisible for "
                + invisibleDuration
                + " and is delivered again; the proxy dead-letters it after the group's maximum"
                + " delivery attempts");
      }
    }
    return decrypted;
  }

  /** Acknowledges {@code view} with the original view the client delivered. */
  public void ack(DecryptedMessageView view) throws ClientException {
    consumer.ack(view.original());
  }

  /** Changes the invisible duration of {@code view} through its original view. */
  public void changeInvisibleDuration(DecryptedMessageView view, Duration invisibleDuration)
      throws ClientException {
    consumer.changeInvisibleDuration(view.original(), invisibleDuration);
  }

  /** Closes the underlying consumer; the cipher stays open. */
  @Override
  public void close() throws IOException {
    consumer.close();
  }

  /** Configures a {@link DecryptingSimpleConsumer}. */
  public static final class Builder {
    private final SimpleConsumer consumer;
    private final MqsealCipher cipher;
    private final Map<String, String> logicalTopics = new HashMap<>();
    private boolean allowUnencrypted;

    private Builder(SimpleConsumer consumer, MqsealCipher cipher) {
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.cipher = Objects.requireNonNull(cipher, "cipher");
    }

    /**
     * Hands bodies that are not mqseal envelopes to the application unchanged, for topics in
     * migration. Off by default.
     */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    /**
     * Decrypts messages delivered on {@code receivedTopic} with {@code logicalTopic} as the
     * context topic. Use it to read a dead-letter queue, {@code %DLQ%<group>}: the proxy hides the
     * origin topic from gRPC consumers, so the application names the topic the producer used.
     */
    public Builder logicalTopic(String receivedTopic, String logicalTopic) {
      logicalTopics.put(
          Objects.requireNonNull(receivedTopic, "receivedTopic"),
          Objects.requireNonNull(logicalTopic, "logicalTopic"));
      return this;
    }

    public DecryptingSimpleConsumer build() {
      return new DecryptingSimpleConsumer(this);
    }
  }
}
