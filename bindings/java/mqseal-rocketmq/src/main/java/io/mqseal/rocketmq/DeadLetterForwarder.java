package io.mqseal.rocketmq;

import io.mqseal.MqsealException;
import io.mqseal.MqsealProperties;
import io.mqseal.rocketmq.common.LogLimiter;
import io.mqseal.rocketmq.common.PropertyValues;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.MixAll;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.remoting.protocol.NamespaceUtil;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Moves messages that can never be decrypted to the consumer group's dead-letter topic. */
final class DeadLetterForwarder {
  private static final Logger LOG = LoggerFactory.getLogger(DeadLetterForwarder.class);

  /** At most 20 lines per 10 s about undecryptable messages, for every listener together. */
  static final LogLimiter LOG_LIMITER = new LogLimiter(10_000, 20);

  private final DefaultMQPushConsumer consumer;
  private final DeadLetterMode mode;

  DeadLetterForwarder(DefaultMQPushConsumer consumer, DeadLetterMode mode) {
    this.consumer = consumer;
    this.mode = mode;
  }

  /**
   * Moves {@code message} (the client's own object, which contains the ciphertext) to the
   * dead-letter topic. Returns false when every way failed; the caller then asks for redelivery,
   * and the message reaches the dead-letter topic on a later attempt or once the group's maximum
   * reconsume times is exceeded.
   */
  // getNamespace, sendMessageBack and getDefaultMQPushConsumerImpl are deprecated in
  // RocketMQ 5.3.3 without a replacement; the client still uses them internally.
  @SuppressWarnings("deprecation")
  boolean deadLetter(MessageExt message, MqsealException error) {
    String failure = null;
    if (mode == DeadLetterMode.FORWARD_WITH_DIAGNOSTICS) {
      try {
        internalProducer()
            .send(diagnosticCopy(message, error, deadLetterTopic(), consumer.getNamespace()));
        log(message, error, "moved it with diagnostics to " + deadLetterTopic(), null);
        return true;
      } catch (Exception e) {
        failure = "forwarding it with diagnostics failed (" + e + ")";
      }
    }
    String prefix = failure == null ? "" : failure + ", so ";
    try {
      consumer.sendMessageBack(message, -1, message.getBrokerName());
      log(message, error, prefix + "asked the broker to move it to " + deadLetterTopic(), null);
      return true;
    } catch (Exception e) {
      log(
          message,
          error,
          prefix + "failed to move it to " + deadLetterTopic() + "; it will be delivered again",
          e);
      return false;
    }
  }

  /** Logs what happened to one undecryptable message, rate-limited by {@link #LOG_LIMITER}. */
  static void log(MessageExt message, MqsealException error, String action, Exception failure) {
    long heldBack = LOG_LIMITER.tryAcquire();
    if (heldBack < 0) {
      return;
    }
    String line =
        "Failed to decrypt {}: {} (code {}, retryable {}); {}"
            + (heldBack > 0 ? "; " + heldBack + " similar lines not logged" : "");
    Object[] arguments = {
      MessageDecryptor.describe(message),
      error.codeName(),
      error.code(),
      error.isRetryable(),
      action
    };
    if (failure == null) {
      LOG.warn(line, arguments);
    } else {
      LOG.error(line + ": {}", append(arguments, failure.toString()));
    }
  }

  private static Object[] append(Object[] arguments, Object last) {
    Object[] longer = Arrays.copyOf(arguments, arguments.length + 1);
    longer[arguments.length] = last;
    return longer;
  }

  /** Returns the dead-letter topic of the consumer group, with its namespace. */
  @SuppressWarnings("deprecation")
  String deadLetterTopic() {
    String group =
        NamespaceUtil.wrapNamespace(consumer.getNamespace(), consumer.getConsumerGroup());
    return MixAll.getDLQTopic(group);
  }

  @SuppressWarnings("deprecation")
  private DefaultMQProducer internalProducer() {
    return consumer.getDefaultMQPushConsumerImpl().getmQClientFactory().getDefaultMQProducer();
  }

  /**
   * Builds the message that lands in the dead-letter topic: the received body unchanged, every
   * property of the received message, the origin properties the broker would set, and the mqseal
   * diagnostic properties.
   */
  static Message diagnosticCopy(
      MessageExt message, MqsealException error, String deadLetterTopic, String namespace) {
    Message copy = new Message(deadLetterTopic, message.getBody());
    copy.setFlag(message.getFlag());
    Map<String, String> properties = propertiesOf(message);
    // Consumption bookkeeping and scheduling would make no sense on the copy.
    properties.remove(MessageConst.PROPERTY_CONSUME_START_TIMESTAMP);
    properties.remove(MessageConst.PROPERTY_MIN_OFFSET);
    properties.remove(MessageConst.PROPERTY_MAX_OFFSET);
    properties.remove(MessageConst.PROPERTY_DELAY_TIME_LEVEL);
    properties.remove(MessageConst.PROPERTY_TIMER_DELIVER_MS);
    properties.remove(MessageConst.PROPERTY_TIMER_DELAY_SEC);
    properties.remove(MessageConst.PROPERTY_TIMER_DELAY_MS);
    properties.remove(MessageConst.PROPERTY_TRANSACTION_PREPARED);

    // The push consumer strips the namespace from the topic; the broker stores it with one.
    String originTopic = NamespaceUtil.wrapNamespace(namespace, message.getTopic());
    properties.putIfAbsent(MessageConst.PROPERTY_RETRY_TOPIC, originTopic);
    properties.putIfAbsent(
        MessageConst.PROPERTY_DLQ_ORIGIN_TOPIC, properties.get(MessageConst.PROPERTY_RETRY_TOPIC));
    String originId = MessageAccessor.getOriginMessageId(message);
    properties.putIfAbsent(
        MessageConst.PROPERTY_ORIGIN_MESSAGE_ID,
        originId == null || originId.isEmpty() ? message.getMsgId() : originId);
    properties.putIfAbsent(MessageConst.PROPERTY_DLQ_ORIGIN_MESSAGE_ID, message.getMsgId());

    properties.put(MqsealProperties.ERROR_CODE, Integer.toString(error.code()));
    properties.put(MqsealProperties.ERROR_NAME, PropertyValues.textSafe(error.codeName()));
    properties.put(MqsealProperties.ERROR_RETRYABLE, Boolean.toString(error.isRetryable()));
    MessageAccessor.setProperties(copy, properties);
    return copy;
  }

  private static Map<String, String> propertiesOf(Message message) {
    return message.getProperties() == null
        ? new HashMap<>()
        : new HashMap<>(message.getProperties());
  }
}
