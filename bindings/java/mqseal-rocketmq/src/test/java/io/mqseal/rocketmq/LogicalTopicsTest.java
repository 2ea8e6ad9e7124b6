package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;
import org.apache.rocketmq.common.message.MessageConst;
import org.apache.rocketmq.common.message.MessageExt;
import org.junit.jupiter.api.Test;

class LogicalTopicsTest {
  @Test
  void outgoingTopicDropsNamespace() {
    assertEquals("orders", LogicalTopics.ofOutgoing(new Message("orders", new byte[1])));
    assertEquals("orders", LogicalTopics.ofOutgoing(new Message("tenant1%orders", new byte[1])));
  }

  @Test
  void receivedTopicIsDeliveryTopic() {
    assertEquals("orders", LogicalTopics.ofReceived(received("orders", null, null)));
    assertEquals("orders", LogicalTopics.ofReceived(received("tenant1%orders", null, null)));
  }

  @Test
  void retryTopicUsesRetryTopicProperty() {
    MessageExt message =
        received("%RETRY%group1", MessageConst.PROPERTY_RETRY_TOPIC, "tenant1%orders");
    assertEquals("orders", LogicalTopics.ofReceived(message));
  }

  @Test
  void deadLetterTopicUsesOriginProperties() {
    assertEquals(
        "orders",
        LogicalTopics.ofReceived(
            received("%DLQ%group1", MessageConst.PROPERTY_RETRY_TOPIC, "orders")));
    MessageExt both = received("%DLQ%group1", MessageConst.PROPERTY_RETRY_TOPIC, "other");
    MessageAccessor.putProperty(both, MessageConst.PROPERTY_DLQ_ORIGIN_TOPIC, "orders");
    assertEquals("orders", LogicalTopics.ofReceived(both));
  }

  @Test
  void realTopicOnlyCountsOnSystemTopics() {
    assertEquals(
        "orders",
        LogicalTopics.ofReceived(
            received("SCHEDULE_TOPIC_XXXX", MessageConst.PROPERTY_REAL_TOPIC, "orders")));
    assertEquals(
        "orders",
        LogicalTopics.ofReceived(
            received("RMQ_SYS_TRANS_HALF_TOPIC", MessageConst.PROPERTY_REAL_TOPIC, "orders")));
    // A producer can set REAL_TOPIC on any message; it must not redirect the context.
    assertEquals(
        "payments",
        LogicalTopics.ofReceived(received("payments", MessageConst.PROPERTY_REAL_TOPIC, "orders")));
  }

  @Test
  void retryTopicWithoutPropertyKeepsRetryName() {
    assertEquals("%RETRY%group1", LogicalTopics.ofReceived(received("%RETRY%group1", null, null)));
  }

  private static MessageExt received(String topic, String property, String value) {
    MessageExt message = new MessageExt();
    message.setTopic(topic);
    message.setBody(new byte[1]);
    if (property != null) {
      MessageAccessor.putProperty(message, property, value);
    }
    return message;
  }
}
