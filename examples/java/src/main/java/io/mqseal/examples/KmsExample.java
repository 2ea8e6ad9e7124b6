package io.mqseal.examples;

import io.mqseal.Counters;
import io.mqseal.MqsealCipher;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Map;

/**
 * Encrypts and decrypts a message body with mqseal and AWS KMS, without a broker.
 *
 * <p>Reads MQSEAL_KMS_REGION, MQSEAL_KMS_ALIAS and, for a local server such as local-kms,
 * MQSEAL_KMS_ENDPOINT; credentials come from the standard AWS chain. scripts/kms-examples.sh runs
 * it against local-kms.
 */
public final class KmsExample {
  private KmsExample() {}

  private static String config(String keyId) {
    StringBuilder text = new StringBuilder("provider = aws-kms\n");
    text.append("aws_kms.region = ").append(System.getenv("MQSEAL_KMS_REGION")).append('\n');
    String endpoint = System.getenv("MQSEAL_KMS_ENDPOINT");
    if (endpoint != null && !endpoint.isEmpty()) {
      text.append("aws_kms.endpoint = ").append(endpoint).append('\n');
    }
    if (keyId != null) {
      text.append("key_id = ").append(keyId).append('\n');
    }
    return text.toString();
  }

  public static void main(String[] args) {
    byte[] body = "{\"order\": 42}".getBytes(StandardCharsets.UTF_8);
    Map<String, String> topic = Map.of("topic", "orders");
    String alias = System.getenv("MQSEAL_KMS_ALIAS");
    byte[] envelope;
    try (MqsealCipher producer = MqsealCipher.fromConfig(config(alias))) {
      envelope = producer.encrypt(body, topic);
    }
    String keyId = MqsealCipher.inspect(envelope).keyIds().get(0);
    System.out.println("java: sealed " + envelope.length + " bytes under " + keyId);

    // A consumer needs no key id: the envelope names the KMS key ARN.
    try (MqsealCipher consumer = MqsealCipher.fromConfig(config(null))) {
      byte[] decrypted = consumer.decryptBody(envelope, topic);
      if (!Arrays.equals(body, decrypted)) {
        System.err.println("java: the decrypted body differs from the original");
        System.exit(1);
      }
      Counters counters = consumer.counters();
      System.out.println(
          "java: decrypted "
              + decrypted.length
              + " bytes; "
              + counters.providerCalls()
              + " KMS call, "
              + counters.providerLatencyMicrosTotal()
              + " us");
    }
  }
}
