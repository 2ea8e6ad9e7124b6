package io.mqseal.interop;

import io.mqseal.EnvelopeInfo;
import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq.DecryptingMessageListenerConcurrently;
import java.io.BufferedOutputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.consumer.DefaultMQPushConsumer;
import org.apache.rocketmq.client.consumer.listener.ConsumeConcurrentlyStatus;
import org.apache.rocketmq.client.consumer.listener.MessageListenerConcurrently;
import org.apache.rocketmq.common.consumer.ConsumeFromWhere;
import org.apache.rocketmq.common.message.MessageExt;

/** The consuming side of the Java remoting leg and of the plain carrier of the C leg. */
final class Consumers {
  private Consumers() {}

  static DefaultMQPushConsumer create(String namesrv, String group, List<String> topics)
      throws Exception {
    DefaultMQPushConsumer consumer = new DefaultMQPushConsumer(group);
    consumer.setNamesrvAddr(namesrv);
    consumer.setConsumeFromWhere(ConsumeFromWhere.CONSUME_FROM_FIRST_OFFSET);
    consumer.setPollNameServerInterval(1_000);
    consumer.setConsumeThreadMin(2);
    consumer.setConsumeThreadMax(4);
    for (String topic : topics) {
      consumer.subscribe(topic, "*");
    }
    return consumer;
  }

  /**
   * Registers the Java leg: {@link DecryptingMessageListenerConcurrently} decrypts, and an outer
   * listener reads each envelope header with {@link MqsealCipher#inspect} before it and notes
   * messages that the decrypting listener dead-lettered instead of handing over.
   */
  static void registerJava(DefaultMQPushConsumer consumer, MqsealCipher cipher, Results results) {
    ThreadLocal<Boolean> delivered = ThreadLocal.withInitial(() -> false);
    ThreadLocal<EnvelopeInfo> header = new ThreadLocal<>();
    MessageListenerConcurrently application =
        (messages, context) -> {
          for (MessageExt message : messages) {
            results.record(message.getProperties(), message.getBody(), null, header.get());
            delivered.set(true);
          }
          return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
        };
    DecryptingMessageListenerConcurrently decrypting =
        DecryptingMessageListenerConcurrently.builder(cipher, consumer, application).build();
    // consumeMessageBatchMaxSize is 1 (the default), so each call carries one message.
    consumer.registerMessageListener(
        (MessageListenerConcurrently)
            (messages, context) -> {
              MessageExt received = messages.get(0);
              EnvelopeInfo info = Variants.header(received.getBody());
              header.set(info);
              delivered.set(false);
              ConsumeConcurrentlyStatus status = decrypting.consumeMessage(messages, context);
              if (!delivered.get()) {
                results.record(
                    received.getProperties(),
                    null,
                    "mqseal-rocketmq did not deliver the message (status " + status + ")",
                    info);
              }
              return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
            });
  }

  /**
   * Writes what the C leg's carrier receives: (topic, body) record pairs to {@code received},
   * which mqseal_interop decrypts, and the message properties to {@code properties} in the same
   * order, and counts distinct messages with {@link Arrivals}.
   */
  static final class Carrier implements AutoCloseable {
    private final DataOutputStream received;
    private final DataOutputStream properties;
    private final Arrivals arrivals;

    Carrier(Path received, Path properties, int expected) throws IOException {
      this.received =
          new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(received)));
      this.properties =
          new DataOutputStream(new BufferedOutputStream(Files.newOutputStream(properties)));
      this.arrivals = new Arrivals(expected);
    }

    void register(DefaultMQPushConsumer consumer) {
      consumer.registerMessageListener(
          (MessageListenerConcurrently)
              (messages, context) -> {
                for (MessageExt message : messages) {
                  store(message);
                }
                return ConsumeConcurrentlyStatus.CONSUME_SUCCESS;
              });
    }

    private synchronized void store(MessageExt message) {
      Map<String, String> plain = new LinkedHashMap<>(message.getProperties());
      try {
        Records.write(received, message.getTopic().getBytes(StandardCharsets.UTF_8));
        Records.write(received, message.getBody());
        Records.write(properties, Records.propertyRecord(plain));
        received.flush();
        properties.flush();
      } catch (IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
      arrivals.add(plain);
    }

    Arrivals arrivals() {
      return arrivals;
    }

    @Override
    public synchronized void close() throws IOException {
      received.close();
      properties.close();
    }
  }
}
