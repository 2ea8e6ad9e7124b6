package io.mqseal.rocketmq.common;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.EnvelopeInfo;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import io.mqseal.MqsealProperties;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Checks the metadata properties against the envelope header that the native library reads. */
class EnvelopeMetadataTest {
  @TempDir Path dir;

  @Test
  void metadataMatchesEnvelopeHeader() {
    Path keyring = dir.resolve("keyring.txt");
    MqsealKeyring.generate(keyring, "orders");
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyringPath(keyring)
            .keyIds("orders")
            .suite("chacha20-poly1305")
            .build()) {
      byte[] body = "hello".getBytes(StandardCharsets.UTF_8);
      Map<String, String> context = Map.of(MqsealProperties.CONTEXT_TOPIC, "orders");
      for (int i = 0; i < 3; i++) {
        // The second and third envelopes reuse the data key, and so the cached metadata.
        byte[] envelope = cipher.encrypt(body, context);
        EnvelopeInfo info = MqsealCipher.inspect(envelope);
        Map<String, String> metadata = EnvelopeMetadata.of(envelope, "orders\u0001%");
        assertEquals(
            List.of(EnvelopeMetadata.names()), List.copyOf(metadata.keySet()), "order of names");
        assertEquals(Integer.toString(info.version()), metadata.get(MqsealProperties.VERSION));
        assertEquals("chacha20-poly1305", metadata.get(MqsealProperties.SUITE));
        assertEquals("orders", metadata.get(MqsealProperties.KEY_ID));
        assertEquals("1", metadata.get(MqsealProperties.KEY_VERSION));
        assertEquals("orders%01%25", metadata.get(MqsealProperties.TOPIC));
        assertTrue(EnvelopeMetadata.keyListEnd(envelope) > 5, "key list end");
      }
    }
  }

  @Test
  void keyListEndRejectsTruncatedHeaders() {
    assertEquals(-1, EnvelopeMetadata.keyListEnd(new byte[4]));
    // One wrapped key announced, but the bytes end inside its key id.
    assertEquals(-1, EnvelopeMetadata.keyListEnd(new byte[] {0, 0, 0, 0, 1, 9, 'o'}));
  }

  @Test
  void describeKeyOfPlaintext() {
    String description =
        EnvelopeMetadata.describeKey("not an envelope".getBytes(StandardCharsets.UTF_8));
    assertEquals("key unknown version unknown", description);
    assertFalse(description.contains("envelope"), "the description echoes the body");
  }
}
