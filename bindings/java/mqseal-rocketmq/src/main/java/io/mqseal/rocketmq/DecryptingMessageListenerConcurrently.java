package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Decrypts messages for an application's {@link MessageListenerConcurrently}.
 *
 * <p>The application's listener receives new {@link MessageExt} copies with the plaintext body and
 * the sealed properties restored. The client's own objects keep the ciphertext, so the retry and
 * dead-letter paths, which copy or re-send those objects, never carry plaintext.
 *
 * <p>Failures:
 *
 * <ul>
 *   <li>Retryable (key provider unavailable): the batch is returned as {@code RECONSUME_LATER}
 *       without calling the application; after the group's maximum reconsume times the broker moves
 *       it to the dead-letter topic.
 *   <li>Permanent (tampered body, wrong topic, unknown key id or version, body not encrypted where
 *       encryption is required): the message goes straight to {@code %DLQ%<group>} as the {@link
 *       DeadLetterMode} sets, and is not handed to the application.
 * </ul>
 *
 * With {@code consumeMessageBatchMaxSize} above 1 (default 1) a batch that the application fails is
 * redelivered whole, including messages already dead-lettered, which are then dead-lettered again.
 */
public final class DecryptingMessageListenerConcurrently implements MessageListenerConcurrently {
  private final MessageListenerConcurrently delegate;
  private final MessageDecryptor decryptor;
  private final DeadLetterForwarder deadLetters;
  private final DeadLetterMode deadLetterMode;

  private DecryptingMessageListenerConcurrently(Builder builder) {
    this.delegate = builder.delegate;
    this.decryptor = new MessageDecryptor(builder.cipher, builder.allowUnencrypted);
    this.deadLetterMode = builder.deadLetterMode;
    this.deadLetters = new DeadLetterForwarder(builder.consumer, builder.deadLetterMode);
  }

  /**
   * Starts a builder. {@code consumer} is the push consumer this listener is registered on; it
   * names the dead-letter topic and sends messages back.
   */
  public static Builder builder(
      MqsealCipher cipher, DefaultMQPushConsumer consumer, MessageListenerConcurrently delegate) {
    return new Builder(cipher, consumer, delegate);
  }

  @Override
  public ConsumeConcurrentlyStatus consumeMessage(
      List<MessageExt> messages, ConsumeConcurrentlyContext context) {
    BatchDecryption batch = BatchDecryption.run(decryptor, messages);
    if (batch.retryable != null) {
      batch.logRetryable("the batch will be delivered again later");
      return ConsumeConcurrentlyStatus.RECONSUME_LATER;
    }
    for (BatchDecryption.Failure failure : batch.permanent) {
      if (messages.size() == 1 && deadLetterMode == DeadLetterMode.BROKER_COPY) {
        // Delay level -1 makes the broker copy the stored message to the DLQ.
        DeadLetterForwarder.log(
            failure.message(),
            failure.error(),
            "delay level -1 makes the broker move it to " + deadLetters.deadLetterTopic(),
            null);
        context.setDelayLevelWhenNextConsume(-1);
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
      if (!deadLetters.deadLetter(failure.message(), failure.error())) {
        if (messages.size() == 1) {
          context.setDelayLevelWhenNextConsume(-1);
        }
        return ConsumeConcurrentlyStatus.RECONSUME_LATER;
      }
    }
    if (batch.plaintext.isEmpty()) {
      return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
    }

    ConsumeConcurrentlyContext delegateContext =
        new ConsumeConcurrentlyContext(context.getMessageQueue());
    delegateContext.setDelayLevelWhenNextConsume(context.getDelayLevelWhenNextConsume());
    ConsumeConcurrentlyStatus status =
        delegate.consumeMessage(Collections.unmodifiableList(batch.plaintext), delegateContext);
    context.setDelayLevelWhenNextConsume(delegateContext.getDelayLevelWhenNextConsume());
    if (delegateContext.getAckIndex() != Integer.MAX_VALUE) {
      context.setAckIndex(batch.mapAckIndex(delegateContext.getAckIndex(), messages.size()));
    }
    return status;
  }

  /** Configures a {@link DecryptingMessageListenerConcurrently}. */
  public static final class Builder {
    private final MqsealCipher cipher;
    private final DefaultMQPushConsumer consumer;
    private final MessageListenerConcurrently delegate;
    private DeadLetterMode deadLetterMode = DeadLetterMode.FORWARD_WITH_DIAGNOSTICS;
    private boolean allowUnencrypted;

    private Builder(
        MqsealCipher cipher, DefaultMQPushConsumer consumer, MessageListenerConcurrently delegate) {
      this.cipher = Objects.requireNonNull(cipher, "cipher");
      this.consumer = Objects.requireNonNull(consumer, "consumer");
      this.delegate = Objects.requireNonNull(delegate, "delegate");
    }

    /**
     * Sets how permanent failures reach the dead-letter topic; the default forwards with
     * diagnostics.
     */
    public Builder deadLetterMode(DeadLetterMode mode) {
      this.deadLetterMode = Objects.requireNonNull(mode, "mode");
      return this;
    }

    /**
     * Hands bodies that are not mqseal envelopes to the application unchanged, for topics in
     * migration. Off by default: such messages are dead-lettered.
     */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    public DecryptingMessageListenerConcurrently build() {
      return new DecryptingMessageListenerConcurrently(this);
    }
  }
}
