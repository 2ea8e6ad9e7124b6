package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import java.util.Objects;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.consumer.ConsumeResult;
import org.apache.rocketmq.client.apis.consumer.MessageListener;
import org.apache.rocketmq.client.apis.consumer.PushConsumer;
import org.apache.rocketmq.client.apis.consumer.PushConsumerBuilder;
import org.apache.rocketmq.client.apis.message.MessageView;

/**
 * Decrypts messages for an application's {@link MessageListener} on a 5.x {@link PushConsumer}.
 *
 * <p>The application's listener receives a {@link DecryptedMessageView}: the plaintext body, the
 * sealed properties restored, and every other field of the delivered view. The context is {@code
 * {topic: <delivered topic>}}, so a body copied to another topic fails authentication.
 *
 * <p>Failures, with the same policy as the remoting integration:
 *
 * <ul>
 *   <li>Retryable ({@link MqsealException#isRetryable()}, for example the key provider is
 *       unavailable): returns {@link ConsumeResult#FAILURE} without calling the application, so the
 *       message is delivered again; after the group's maximum delivery attempts the proxy moves it
 *       to the dead-letter queue.
 *   <li>Permanent (authentication failed, malformed envelope, key not found, a plaintext body when
 *       encryption is required): the message goes to {@code %DLQ%<group>} at once, with its body
 *       and properties unchanged, and the application never sees it. When the listener has no
 *       consumer to forward with (see {@link #attach}) or forwarding fails, it returns {@code
 *       FAILURE} and the proxy dead-letters the message after the group's maximum delivery
 *       attempts.
 * </ul>
 *
 * <p>Immediate dead-lettering uses the client's {@code ForwardMessageToDeadLetterQueue} call (see
 * {@link DeadLetterForwarding}): the broker copies the stored message, so unlike the remoting
 * integration no diagnostic properties can be added. The reason is in the log instead (message id,
 * topic, key id and version, error code; never the body). Build the consumer with {@link
 * #buildConsumer}, or call {@link #attach} right after building it.
 */
public final class DecryptingMessageListener implements MessageListener {
  private final MessageListener delegate;
  private final ViewDecryptor decryptor;
  private final boolean deadLetterImmediately;
  private volatile PushConsumer consumer;

  private DecryptingMessageListener(Builder builder) {
    this.delegate = builder.delegate;
    this.decryptor =
        new ViewDecryptor(builder.cipher, builder.allowUnencrypted, MessageView::getTopic);
    this.deadLetterImmediately = builder.deadLetterImmediately;
  }

  /** Starts a builder for a listener that decrypts with {@code cipher} and calls {@code delegate}. */
  public static Builder builder(MqsealCipher cipher, MessageListener delegate) {
    return new Builder(cipher, delegate);
  }

  /**
   * Sets this listener on {@code builder}, builds the push consumer and attaches it, so permanent
   * failures are dead-lettered at once from the first message on.
   */
  public PushConsumer buildConsumer(PushConsumerBuilder builder) throws ClientException {
    PushConsumer built = builder.setMessageListener(this).build();
    attach(built);
    return built;
  }

  /**
   * Gives the listener the push consumer it runs on, which it needs to dead-letter a message at
   * once. Until then permanent failures wait for the group's maximum delivery attempts.
   */
  public void attach(PushConsumer pushConsumer) {
    this.consumer = Objects.requireNonNull(pushConsumer, "pushConsumer");
  }

  @Override
  public ConsumeResult consume(MessageView messageView) {
    DecryptedMessageView plaintext;
    try {
      plaintext = decryptor.decrypt(messageView);
    } catch (MqsealException e) {
      return onFailure(messageView, e);
    }
    return delegate.consume(plaintext);
  }

  private ConsumeResult onFailure(MessageView view, MqsealException error) {
    if (error.isRetryable()) {
      FailureLog.log(view, error, "it will be delivered again");
      return ConsumeResult.FAILURE;
    }
    if (!deadLetterImmediately) {
      FailureLog.log(
          view, error, "it will be dead-lettered after the group's maximum delivery attempts");
      return ConsumeResult.FAILURE;
    }
    String problem = DeadLetterForwarding.forward(consumer, view);
    if (problem == null) {
      FailureLog.log(view, error, "moved it to the dead-letter queue of the consumer group");
      return ConsumeResult.SUCCESS;
    }
    FailureLog.log(
        view,
        error,
        "could not move it to the dead-letter queue at once ("
            + problem
            + "); it will be dead-lettered after the group's maximum delivery attempts");
    return ConsumeResult.FAILURE;
  }

  /** Configures a {@link DecryptingMessageListener}. */
  public static final class Builder {
    private final MqsealCipher cipher;
    private final MessageListener delegate;
    private boolean allowUnencrypted;
    private boolean deadLetterImmediately = true;

    private Builder(MqsealCipher cipher, MessageListener delegate) {
      this.cipher = Objects.requireNonNull(cipher, "cipher");
      this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * Hands bodies that are not mqseal envelopes to the application unchanged, for topics in
     * migration. Off by default: such messages are dead-lettered.
     */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    /**
     * Chooses whether permanent failures go to the dead-letter queue at once (default) or only
     * after the group's maximum delivery attempts, which needs no client internals.
     */
    public Builder deadLetterImmediately(boolean immediately) {
      this.deadLetterImmediately = immediately;
      return this;
    }

    public DecryptingMessageListener build() {
      return new DecryptingMessageListener(this);
    }
  }
}
