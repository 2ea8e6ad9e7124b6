package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import java.util.Collections;
import java.util.List;
import java.util.Objects;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyContext;
import org.apache.rocketmq.client.consumer.listener.ConsumeOrderlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerOrderly;
import org.apache.rocketmq.common.message.MessageExt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decrypts messages for an application's {@link MessageListenerOrderly}.
 *
 * <p>The application's listener receives new {@link MessageExt} copies with the plaintext body and
 * the sealed properties restored; the client's own objects keep the ciphertext.
 *
 * <p>Failures:
 *
 * <ul>
 *   <li>Retryable: {@code SUSPEND_CURRENT_QUEUE_A_MOMENT}, so the queue waits and the batch is
 *       tried again in order.
 *   <li>Permanent: the message goes to {@code %DLQ%<group>} as the {@link DeadLetterMode} sets, and
 *       the queue moves on. When that fails the queue is suspended too.
 * </ul>
 *
 * An orderly consumer retries a suspended batch up to its {@code maxReconsumeTimes}, which RocketMQ
 * 5.3.3 treats as unbounded ({@code Integer.MAX_VALUE}) by default; one message that cannot be
 * decrypted would then block its queue forever. {@link Builder#build()} therefore sets a bound on
 * the consumer when none is set (see {@link Builder#maxReconsumeTimes}); after that many attempts
 * the client moves the message to the dead-letter topic itself.
 */
public final class DecryptingMessageListenerOrderly implements MessageListenerOrderly {
  private static final Logger LOG = LoggerFactory.getLogger(DecryptingMessageListenerOrderly.class);

  /** Bound set on consumers that have none, as for concurrent consumers in RocketMQ 5.3.3. */
  public static final int DEFAULT_MAX_RECONSUME_TIMES = 16;

  private final MessageListenerOrderly delegate;
  private final MessageDecryptor decryptor;
  private final DeadLetterForwarder deadLetters;

  private DecryptingMessageListenerOrderly(Builder builder) {
    this.delegate = builder.delegate;
    this.decryptor = new MessageDecryptor(builder.cipher, builder.allowUnencrypted);
    this.deadLetters = new DeadLetterForwarder(builder.consumer, builder.deadLetterMode);
  }

  /**
   * Starts a builder. {@code consumer} is the push consumer this listener is registered on;
   * building may set its {@code maxReconsumeTimes}.
   */
  public static Builder builder(
      MqsealCipher cipher, DefaultMQPushConsumer consumer, MessageListenerOrderly delegate) {
    return new Builder(cipher, consumer, delegate);
  }

  @Override
  public ConsumeOrderlyStatus consumeMessage(
      List<MessageExt> messages, ConsumeOrderlyContext context) {
    BatchDecryption batch = BatchDecryption.run(decryptor, messages);
    if (batch.retryable != null) {
      batch.logRetryable("the queue is suspended and the batch tried again");
      return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
    }
    for (BatchDecryption.Failure failure : batch.permanent) {
      if (!deadLetters.deadLetter(failure.message(), failure.error())) {
        return ConsumeOrderlyStatus.SUSPEND_CURRENT_QUEUE_A_MOMENT;
      }
    }
    if (batch.plaintext.isEmpty()) {
      return ConsumeOrderlyStatus.SUCCESS;
    }
    return delegate.consumeMessage(Collections.unmodifiableList(batch.plaintext), context);
  }

  /** Configures a {@link DecryptingMessageListenerOrderly}. */
  public static final class Builder {
    private final MqsealCipher cipher;
    private final DefaultMQPushConsumer consumer;
    private final MessageListenerOrderly delegate;
    private DeadLetterMode deadLetterMode = DeadLetterMode.FORWARD_WITH_DIAGNOSTICS;
    private boolean allowUnencrypted;
    private int maxReconsumeTimes = DEFAULT_MAX_RECONSUME_TIMES;

    private Builder(
        MqsealCipher cipher, DefaultMQPushConsumer consumer, MessageListenerOrderly delegate) {
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

    /** Hands bodies that are not mqseal envelopes to the application unchanged; off by default. */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    /**
     * Sets the bound applied to the consumer when its {@code maxReconsumeTimes} is unset (-1);
     * default {@value DecryptingMessageListenerOrderly#DEFAULT_MAX_RECONSUME_TIMES}. A bound the
     * application set on the consumer is kept.
     */
    public Builder maxReconsumeTimes(int times) {
      if (times < 0) {
        throw new IllegalArgumentException("maxReconsumeTimes must be 0 or more, got " + times);
      }
      this.maxReconsumeTimes = times;
      return this;
    }

    public DecryptingMessageListenerOrderly build() {
      if (consumer.getMaxReconsumeTimes() < 0) {
        consumer.setMaxReconsumeTimes(maxReconsumeTimes);
        LOG.info(
            "Set maxReconsumeTimes of consumer group {} to {}, so a message that cannot be "
                + "decrypted does not block its queue forever",
            consumer.getConsumerGroup(),
            maxReconsumeTimes);
      }
      return new DecryptingMessageListenerOrderly(this);
    }
  }
}
