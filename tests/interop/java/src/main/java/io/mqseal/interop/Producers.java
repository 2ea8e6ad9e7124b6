package io.mqseal.interop;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq.EncryptingProducer;
import java.io.BufferedInputStream;
import java.io.DataInputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.SendStatus;
import org.apache.rocketmq.common.message.Message;

/** The producing side of the Java remoting leg and of the plain carrier of the C leg. */
final class Producers {
  private Producers() {}

  static DefaultMQProducer start(String namesrv, String group) throws Exception {
    DefaultMQProducer producer = new DefaultMQProducer(group);
    producer.setNamesrvAddr(namesrv);
    producer.setSendMsgTimeout(15_000);
    producer.setRetryTimesWhenSendFailed(2);
    // Envelopes do not compress; the C leg's bodies must arrive as the C code wrote them.
    producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
    producer.start();
    return producer;
  }

  /**
   * Sends {@code count} messages of every variant to topic interop-java through {@link
   * EncryptingProducer}, one cipher per suite and compression setting.
   */
  static int sendJava(DefaultMQProducer producer, Path keyring, String keyId, int count)
      throws Exception {
    String topic = Variants.topic("java");
    int sent = 0;
    for (String suite : Variants.SUITES) {
      for (String compression : Variants.COMPRESSIONS) {
        try (MqsealCipher cipher = Variants.cipher(keyring, keyId, suite, compression)) {
          EncryptingProducer encrypting = EncryptingProducer.builder(producer, cipher).build();
          for (int sequence = 0; sequence < count; sequence++) {
            byte[] body = Variants.body("java", suite, compression, sequence);
            Message message = new Message(topic, "interop", body);
            interopProperties("java", suite, compression, sequence, body)
                .forEach(message::putUserProperty);
            check(encrypting.send(message), topic);
            sent++;
          }
        }
      }
    }
    return sent;
  }

  /**
   * Sends the C leg's envelopes from {@code directory} to topic interop-c without mqseal: for
   * each variant, SUITE-COMPRESSION.sealed contains (envelope, mqseal properties) record pairs from
   * mqseal_interop and SUITE-COMPRESSION.props the interop properties of the same messages.
   */
  static int sendCarried(DefaultMQProducer producer, Path directory) throws Exception {
    String topic = Variants.topic("c");
    int sent = 0;
    for (String suite : Variants.SUITES) {
      for (String compression : Variants.COMPRESSIONS) {
        String stem = suite + "-" + compression;
        try (DataInputStream sealed = open(directory.resolve(stem + ".sealed"));
            DataInputStream interop = open(directory.resolve(stem + ".props"))) {
          byte[] envelope;
          while ((envelope = Records.read(sealed)) != null) {
            byte[] mqsealProperties = Records.read(sealed);
            byte[] interopProperties = Records.read(interop);
            if (mqsealProperties == null || interopProperties == null) {
              throw new IOException(stem + ": the .sealed and .props files do not pair up");
            }
            Message message = new Message(topic, "interop", envelope);
            Records.properties(mqsealProperties).forEach(message::putUserProperty);
            Records.properties(interopProperties).forEach(message::putUserProperty);
            check(producer.send(message), topic);
            sent++;
          }
        }
      }
    }
    return sent;
  }

  static Map<String, String> interopProperties(
      String producer, String suite, String compression, int sequence, byte[] body) {
    Map<String, String> properties = new LinkedHashMap<>();
    properties.put(Variants.PRODUCER, producer);
    properties.put(Variants.SUITE, suite);
    properties.put(Variants.COMPRESSION, compression);
    properties.put(Variants.SEQUENCE, Integer.toString(sequence));
    properties.put(Variants.SHA256, Variants.sha256(body));
    return properties;
  }

  private static DataInputStream open(Path file) throws IOException {
    return new DataInputStream(new BufferedInputStream(Files.newInputStream(file)));
  }

  private static void check(SendResult result, String topic) {
    if (result.getSendStatus() != SendStatus.SEND_OK) {
      throw new IllegalStateException(
          "sending to " + topic + " returned " + result.getSendStatus() + ": " + result);
    }
  }
}
