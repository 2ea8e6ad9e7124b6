package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The context binds the topic name without namespace, so consumers decrypt whether they use the
 * namespace or subscribe to the full topic name.
 */
@ExtendWith(RocketMqBroker.class)
class NamespaceTest {
  @TempDir Path keyDir;

  @Test
  @SuppressWarnings("deprecation") // setNamespace is the remoting client's namespace API in 5.3.3
  void namespacedTopicDecryptsWithAndWithoutNamespace() throws Exception {
    Inbox withNamespace = new Inbox();
    Inbox fullName = new Inbox();
    try (MqsealCipher cipher = TestClients.cipher(TestClients.newKeyring(keyDir))) {
      DefaultMQProducer underlying = TestClients.producer(TestTopics.group("ns-producer"));
      underlying.setNamespace(TestTopics.NAMESPACE);
      EncryptingProducer producer = EncryptingProducer.builder(underlying, cipher).build();

      DefaultMQPushConsumer namespaced = TestClients.pushConsumer(TestTopics.group("ns-consumer"));
      namespaced.setNamespace(TestTopics.NAMESPACE);
      namespaced.subscribe(TestTopics.NAMESPACED, "*");
      namespaced.registerMessageListener(
          DecryptingMessageListenerConcurrently.builder(
                  cipher,
                  namespaced,
                  (messages, context) -> {
                    withNamespace.addAll(messages);
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                  })
              .build());

      DefaultMQPushConsumer plainName = TestClients.pushConsumer(TestTopics.group("ns-fullname"));
      plainName.subscribe(TestTopics.NAMESPACE + "%" + TestTopics.NAMESPACED, "*");
      plainName.registerMessageListener(
          DecryptingMessageListenerConcurrently.builder(
                  cipher,
                  plainName,
                  (messages, context) -> {
                    fullName.addAll(messages);
                    return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
                  })
              .build());

      producer.start();
      namespaced.start();
      plainName.start();
      try {
        String key = TestClients.uniqueId("namespaced");
        byte[] body = TestClients.body(700);
        producer.send(new Message(TestTopics.NAMESPACED, "tagA", key, body));

        assertEquals(List.of(), withNamespace.await(List.of(key), Duration.ofSeconds(60)));
        assertEquals(List.of(), fullName.await(List.of(key), Duration.ofSeconds(60)));
        assertEquals(TestClients.sha256(body), withNamespace.first(key).bodySha256());
        assertEquals(TestClients.sha256(body), fullName.first(key).bodySha256());
        assertEquals(TestTopics.NAMESPACED, withNamespace.first(key).topic());
        assertEquals(
            TestTopics.NAMESPACED, fullName.first(key).properties().get(MqsealProperties.TOPIC));
      } finally {
        namespaced.shutdown();
        plainName.shutdown();
        producer.shutdown();
      }
    }
  }
}
