package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.protocol.NamespaceUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Polls a {@link DefaultLitePullConsumer} and returns decrypted copies of the messages.
 *
 * <p>The lite pull consumer has no retry topic, so failures are handled here:
 *
 * <ul>
 *   <li>Retryable: the queue is rewound ({@code seek}) to the failed message, and the messages
 *       before it are returned; the next poll reads it again.
 *   <li>Permanent: with a dead-letter producer (see {@link Builder#deadLetterProducer}), a copy
 *       with the unchanged body and the diagnostic properties goes to {@code %DLQ%<group>}; without
 *       one, the message is skipped and logged. Either way it is not returned.
 * </ul>
 *
 * The consumer's hooks run inside {@code poll}, before decryption, so outcomes are counted through
 * {@link Builder#metrics} instead. Not thread-safe, like the consumer it wraps.
 */
public final class DecryptingLitePullConsumer {
  private static final Logger LOG = LoggerFactory.getLogger(DecryptingLitePullConsumer.class);

  private final DefaultLitePullConsumer consumer;
  private final MessageDecryptor decryptor;
  private final DefaultMQProducer deadLetterProducer;
  private final DecryptionMetricsHook metrics;

  private DecryptingLitePullConsumer(Builder builder) {
    this.consumer = builder.consumer;
    this.decryptor = new MessageDecryptor(builder.cipher, builder.allowUnencrypted);
    this.deadLetterProducer = builder.deadLetterProducer;
    this.metrics = builder.metrics;
  }

  public static Builder builder(MqsealCipher cipher, DefaultLitePullConsumer consumer) {
    return new Builder(cipher, consumer);
  }

  /** Returns the wrapped consumer, for subscribing, seeking and committing. */
  public DefaultLitePullConsumer getConsumer() {
    return consumer;
  }

  /** Polls with the consumer's poll timeout. */
  public List<MessageExt> poll() {
    return decryptAll(consumer.poll());
  }

  public List<MessageExt> poll(long timeoutMillis) {
    return decryptAll(consumer.poll(timeoutMillis));
  }

  private List<MessageExt> decryptAll(List<MessageExt> messages) {
    List<MessageExt> plaintext = new ArrayList<>(messages.size());
    Set<MessageQueue> rewound = new HashSet<>();
    for (MessageExt message : messages) {
      MessageQueue queue =
          new MessageQueue(message.getTopic(), message.getBrokerName(), message.getQueueId());
      if (rewound.contains(queue)) {
        continue;
      }
      try {
        MessageDecryptor.Decryption decryption = decryptor.decrypt(message);
        plaintext.add(decryption.message());
        count(
            decryption.wasEncrypted()
                ? DecryptionOutcomes.Outcome.DECRYPTED
                : DecryptionOutcomes.Outcome.UNENCRYPTED,
            null);
      } catch (MqsealException e) {
        count(DecryptionOutcomes.Outcome.FAILED, e.codeName());
        if (e.isRetryable() || !deadLetter(message, e)) {
          rewind(queue, message, e);
          rewound.add(queue);
          if (e.isRetryable()) {
            DeadLetterForwarder.log(
                message, e, "rewound its queue to read it again on a later poll", null);
          }
        }
      }
    }
    return plaintext;
  }

  /** Returns false when the message must be read again because forwarding failed. */
  @SuppressWarnings("deprecation") // getNamespace has no replacement in RocketMQ 5.3.3
  private boolean deadLetter(MessageExt message, MqsealException error) {
    if (deadLetterProducer == null) {
      DeadLetterForwarder.log(
          message, error, "skipped it, because no dead-letter producer is set", null);
      return true;
    }
    String group =
        NamespaceUtil.wrapNamespace(consumer.getNamespace(), consumer.getConsumerGroup());
    String topic = MixAll.getDLQTopic(group);
    try {
      deadLetterProducer.send(
          DeadLetterForwarder.diagnosticCopy(message, error, topic, consumer.getNamespace()));
      DeadLetterForwarder.log(message, error, "moved it with diagnostics to " + topic, null);
      return true;
    } catch (Exception e) {
      DeadLetterForwarder.log(
          message,
          error,
          "failed to move it to " + topic + "; the queue is rewound to read it again",
          e);
      return false;
    }
  }

  private void rewind(MessageQueue queue, MessageExt message, MqsealException error) {
    try {
      consumer.seek(queue, message.getQueueOffset());
    } catch (MQClientException e) {
      error.addSuppressed(e);
      LOG.error(
          "Failed to rewind queue {} to offset {} after {} could not be decrypted ({}); seek "
              + "back to read it again",
          queue,
          message.getQueueOffset(),
          MessageDecryptor.describe(message),
          error.codeName());
      throw error;
    }
  }

  private void count(DecryptionOutcomes.Outcome outcome, String errorName) {
    if (metrics != null) {
      metrics.record(outcome, errorName);
    }
  }

  /** Configures a {@link DecryptingLitePullConsumer}. */
  public static final class Builder {
    private final MqsealCipher cipher;
    private final DefaultLitePullConsumer consumer;
    private DefaultMQProducer deadLetterProducer;
    private DecryptionMetricsHook metrics;
    private boolean allowUnencrypted;

    private Builder(MqsealCipher cipher, DefaultLitePullConsumer consumer) {
      this.cipher = Objects.requireNonNull(cipher, "cipher");
      this.consumer = Objects.requireNonNull(consumer, "consumer");
    }

    /**
     * Sets a started producer that moves permanently undecryptable messages to {@code
     * %DLQ%<group>}. Without one they are skipped and logged.
     */
    public Builder deadLetterProducer(DefaultMQProducer producer) {
      this.deadLetterProducer = producer;
      return this;
    }

    /** Counts outcomes in {@code hook}, which need not be registered on the consumer. */
    public Builder metrics(DecryptionMetricsHook hook) {
      this.metrics = hook;
      return this;
    }

    /** Returns bodies that are not mqseal envelopes unchanged; off by default. */
    public Builder allowUnencrypted(boolean allow) {
      this.allowUnencrypted = allow;
      return this;
    }

    public DecryptingLitePullConsumer build() {
      return new DecryptingLitePullConsumer(this);
    }
  }
}
