package io.mqseal.rocketmq;

import java.util.HashMap;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;

/** Helpers for messages read from a dead-letter topic. */
public final class DeadLetters {
  private DeadLetters() {}

  /**
   * Returns the topic a dead-lettered message was first sent to, without namespace: the same topic
   * that mqseal bound into the message's context.
   */
  public static String originalTopic(MessageExt deadLettered) {
    return LogicalTopics.ofReceived(deadLettered);
  }

  /**
   * Returns a message that re-sends {@code deadLettered} to its original topic with a plain
   * producer, for instance once the missing key version is available: the body is the unchanged
   * envelope, tags, keys and user properties are kept, and the mqseal diagnostic properties and the
   * broker's retry and dead-letter bookkeeping are dropped. Send it with a plain producer, not
   * through {@link EncryptingProducer}, which would encrypt the envelope a second time.
   */
  public static Message redriveCopy(MessageExt deadLettered) {
    Message copy = new Message(originalTopic(deadLettered), deadLettered.getBody());
    copy.setFlag(deadLettered.getFlag());
    Map<String, String> properties = propertiesOf(deadLettered);
    EncryptionMetadata.clearDiagnostics(properties);
    for (String name :
        new String[] {
          MessageConst.PROPERTY_RETRY_TOPIC,
          MessageConst.PROPERTY_DLQ_ORIGIN_TOPIC,
          MessageConst.PROPERTY_DLQ_ORIGIN_MESSAGE_ID,
          MessageConst.PROPERTY_ORIGIN_MESSAGE_ID,
          MessageConst.PROPERTY_RECONSUME_TIME,
          MessageConst.PROPERTY_MAX_RECONSUME_TIMES,
          MessageConst.PROPERTY_CONSUME_START_TIMESTAMP,
          MessageConst.PROPERTY_MIN_OFFSET,
          MessageConst.PROPERTY_MAX_OFFSET,
          MessageConst.PROPERTY_UNIQ_CLIENT_MESSAGE_ID_KEYIDX,
          MessageConst.PROPERTY_REAL_TOPIC,
          MessageConst.PROPERTY_REAL_QUEUE_ID,
          MessageConst.PROPERTY_DELAY_TIME_LEVEL,
          MessageConst.PROPERTY_TRANSACTION_PREPARED,
          MessageConst.PROPERTY_PRODUCER_GROUP,
        }) {
      properties.remove(name);
    }
    MessageAccessor.setProperties(copy, properties);
    return copy;
  }

  private static Map<String, String> propertiesOf(Message message) {
    return message.getProperties() == null
        ? new HashMap<>()
        : new HashMap<>(message.getProperties());
  }
}
