package io.mqseal.rocketmq;

import java.util.HashMap;
import java.util.Map;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageClientExt;
import org.apache.rocketmq.common.message.MessageExt;

/** Copies received messages, so the client's own objects keep the ciphertext. */
final class MessageCopies {
  private MessageCopies() {}

  /**
   * Returns a new message with every field and property of {@code source}, the body {@code body},
   * and {@code extraProperties} added over the copied properties.
   */
  static MessageExt withBody(MessageExt source, byte[] body, Map<String, String> extraProperties) {
    MessageExt copy;
    if (source instanceof MessageClientExt) {
      MessageClientExt clientCopy = new MessageClientExt();
      clientCopy.setOffsetMsgId(((MessageClientExt) source).getOffsetMsgId());
      copy = clientCopy;
    } else {
      copy = new MessageExt();
      copy.setMsgId(source.getMsgId());
    }
    copy.setTopic(source.getTopic());
    copy.setFlag(source.getFlag());
    copy.setBody(body);
    copy.setTransactionId(source.getTransactionId());
    copy.setBrokerName(source.getBrokerName());
    copy.setQueueId(source.getQueueId());
    copy.setStoreSize(source.getStoreSize());
    copy.setQueueOffset(source.getQueueOffset());
    copy.setSysFlag(source.getSysFlag());
    copy.setBornTimestamp(source.getBornTimestamp());
    copy.setBornHost(source.getBornHost());
    copy.setStoreTimestamp(source.getStoreTimestamp());
    copy.setStoreHost(source.getStoreHost());
    copy.setCommitLogOffset(source.getCommitLogOffset());
    copy.setBodyCRC(source.getBodyCRC());
    copy.setReconsumeTimes(source.getReconsumeTimes());
    copy.setPreparedTransactionOffset(source.getPreparedTransactionOffset());

    Map<String, String> properties = new HashMap<>();
    if (source.getProperties() != null) {
      properties.putAll(source.getProperties());
    }
    if (extraProperties != null) {
      properties.putAll(extraProperties);
    }
    MessageAccessor.setProperties(copy, properties);
    return copy;
  }
}
