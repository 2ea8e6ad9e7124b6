package io.mqseal.rocketmq;

import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.topic.TopicValidator;
import org.apache.rocketmq.remoting.protocol.NamespaceUtil;

/**
 * Derives the logical topic that mqseal binds into the authenticated context.
 *
 * <p>The logical topic is the application's topic name without a namespace prefix. On the consumer
 * side it comes from where the broker delivered the message, never from the {@code mqseal-topic}
 * property, so a body copied to another topic fails to decrypt.
 */
final class LogicalTopics {
  private LogicalTopics() {}

  /** Returns the logical topic of a message that a producer is about to send. */
  static String ofOutgoing(Message message) {
    return NamespaceUtil.withoutNamespace(message.getTopic());
  }

  /**
   * Returns the logical topic of a received message.
   *
   * <ul>
   *   <li>{@code %RETRY%group}: the {@code RETRY_TOPIC} property. The push consumer usually
   *       restores the topic before the listener runs.
   *   <li>{@code %DLQ%group}: {@code DLQ_ORIGIN_TOPIC} when present, else {@code RETRY_TOPIC},
   *       which the broker sets when it dead-letters a message.
   *   <li>A system topic (delay, timer or transaction half topic): {@code REAL_TOPIC}. Outside
   *       system topics {@code REAL_TOPIC} is ignored, because any producer can set it.
   * </ul>
   *
   * <p>Trust boundary: the retry and dead-letter topics of a group are trusted to carry only
   * messages of topics that group consumes, as the broker guarantees.
   */
  static String ofReceived(Message message) {
    String topic = message.getTopic();
    String origin = null;
    if (NamespaceUtil.isRetryTopic(topic)) {
      origin = message.getProperty(MessageConst.PROPERTY_RETRY_TOPIC);
    } else if (NamespaceUtil.isDLQTopic(topic)) {
      origin = message.getProperty(MessageConst.PROPERTY_DLQ_ORIGIN_TOPIC);
      if (isBlank(origin)) {
        origin = message.getProperty(MessageConst.PROPERTY_RETRY_TOPIC);
      }
    } else if (TopicValidator.isSystemTopic(topic)) {
      origin = message.getProperty(MessageConst.PROPERTY_REAL_TOPIC);
    }
    return NamespaceUtil.withoutNamespace(isBlank(origin) ? topic : origin);
  }

  private static boolean isBlank(String value) {
    return value == null || value.isEmpty();
  }
}
