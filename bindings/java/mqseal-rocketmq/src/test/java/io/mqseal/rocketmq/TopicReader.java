package io.mqseal.rocketmq;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultLitePullConsumer;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.common.message.MessageExt;
import org.apache.rocketmq.common.message.MessageQueue;

/**
 * Reads a topic as stored, without decrypting, from the first offset of every queue: for
 * dead-letter topics and for checking what the broker holds.
 */
final class TopicReader {
  private TopicReader() {}

  /**
   * Polls {@code topic} until {@code count} messages arrived or {@code timeout} passed, waiting
   * first for the topic to exist (dead-letter topics appear with their first message). Returns what
   * arrived.
   */
  static List<MessageExt> read(String topic, int count, Duration timeout) throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
    DefaultLitePullConsumer consumer =
        TestClients.litePullConsumer(TestTopics.group("reader" + TestClients.randomHex(4)));
    consumer.setAutoCommit(false);
    consumer.start();
    try {
      Collection<MessageQueue> queues = awaitQueues(consumer, topic, deadline);
      consumer.assign(queues);
      for (MessageQueue queue : queues) {
        consumer.seekToBegin(queue);
      }
      List<MessageExt> messages = new ArrayList<>();
      while (messages.size() < count && System.nanoTime() < deadline) {
        messages.addAll(consumer.poll(500));
      }
      return messages;
    } finally {
      consumer.shutdown();
    }
  }

  private static Collection<MessageQueue> awaitQueues(
      DefaultLitePullConsumer consumer, String topic, long deadline) throws Exception {
    while (true) {
      try {
        Collection<MessageQueue> queues = consumer.fetchMessageQueues(topic);
        if (!queues.isEmpty()) {
          return queues;
        }
      } catch (MQClientException e) {
        if (System.nanoTime() > deadline) {
          throw e;
        }
      }
      Thread.sleep(500);
    }
  }
}
