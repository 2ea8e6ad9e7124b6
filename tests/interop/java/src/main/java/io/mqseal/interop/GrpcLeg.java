package io.mqseal.interop;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq5.DecryptedMessageView;
import io.mqseal.rocketmq5.DecryptingSimpleConsumer;
import io.mqseal.rocketmq5.EncryptingProducer;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.client.apis.ClientConfiguration;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.consumer.FilterExpression;
import org.apache.rocketmq.client.apis.consumer.SimpleConsumer;
import org.apache.rocketmq.client.apis.message.MessageBuilder;
import org.apache.rocketmq.client.apis.producer.Producer;

/** The java-grpc leg: mqseal-rocketmq5 on rocketmq-client-java, through the proxy's gRPC port. */
final class GrpcLeg {
  /** How long a received message stays invisible before the proxy delivers it again. */
  private static final Duration INVISIBLE = Duration.ofSeconds(30);

  private final ClientServiceProvider provider = ClientServiceProvider.loadService();
  private final ClientConfiguration configuration;

  GrpcLeg(String endpoint) {
    this.configuration =
        ClientConfiguration.newBuilder()
            .setEndpoints(endpoint)
            .enableSsl(false)
            .setRequestTimeout(Duration.ofSeconds(15))
            .build();
  }

  /**
   * Sends {@code count} messages of every variant to topic interop-java-grpc through {@link
   * EncryptingProducer}, one cipher per suite and compression setting.
   */
  int send(Path keyring, String keyId, int count) throws Exception {
    String topic = Variants.topic("java-grpc");
    int sent = 0;
    try (Producer producer =
        provider
            .newProducerBuilder()
            .setClientConfiguration(configuration)
            .setTopics(topic)
            .build()) {
      for (String suite : Variants.SUITES) {
        for (String compression : Variants.COMPRESSIONS) {
          try (MqsealCipher cipher = Variants.cipher(keyring, keyId, suite, compression)) {
            // Not closed: closing the facade would close the shared producer.
            EncryptingProducer encrypting =
                EncryptingProducer.builder(producer, cipher).provider(provider).build();
            for (int sequence = 0; sequence < count; sequence++) {
              byte[] body = Variants.body("java-grpc", suite, compression, sequence);
              MessageBuilder message =
                  provider.newMessageBuilder().setTopic(topic).setTag("interop").setBody(body);
              Producers.interopProperties("java-grpc", suite, compression, sequence, body)
                  .forEach(message::addProperty);
              encrypting.send(message.build());
              sent++;
            }
          }
        }
      }
    }
    return sent;
  }

  /** Starts a simple consumer of group interop-java-grpc-consumer on every topic. */
  DecryptingSimpleConsumer startConsumer(MqsealCipher cipher, List<String> topics)
      throws ClientException {
    Map<String, FilterExpression> subscriptions = new HashMap<>();
    for (String topic : topics) {
      subscriptions.put(topic, FilterExpression.SUB_ALL);
    }
    SimpleConsumer consumer =
        provider
            .newSimpleConsumerBuilder()
            .setClientConfiguration(configuration)
            .setConsumerGroup("interop-java-grpc-consumer")
            .setSubscriptionExpressions(subscriptions)
            .setAwaitDuration(Duration.ofSeconds(5))
            .build();
    return DecryptingSimpleConsumer.builder(consumer, cipher).build();
  }

  /**
   * Receives until every expected message arrived or {@code deadline} (System.nanoTime) passed,
   * and records each message. Messages that fail to decrypt stay invisible and are not returned,
   * so the summary reports them as missing.
   */
  static void receive(DecryptingSimpleConsumer consumer, Results results, long deadline)
      throws ClientException {
    while (results.arrivals().missing() > 0 && System.nanoTime() < deadline) {
      for (DecryptedMessageView view : consumer.receive(16, INVISIBLE)) {
        ByteBuffer original = view.original().getBody();
        byte[] envelope = new byte[original.remaining()];
        original.duplicate().get(envelope);
        results.record(view.getProperties(), view.bodyBytes(), null, Variants.header(envelope));
        consumer.ack(view);
      }
    }
  }
}
