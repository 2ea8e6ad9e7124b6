package io.mqseal.interop;

import io.mqseal.EnvelopeInfo;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;

/**
 * The message variants of the interop matrix and the test bodies, identical in every language
 * leg (tests/interop/interop.py holds the same definitions).
 *
 * <p>Every message carries plain properties naming its producer, suite, compression and sequence
 * number, and the SHA-256 of its plaintext body, so any consumer can check what it decrypted.
 */
final class Variants {
  static final String PRODUCER = "interop-producer";
  static final String SUITE = "interop-suite";
  static final String COMPRESSION = "interop-compression";
  static final String SEQUENCE = "interop-seq";
  static final String SHA256 = "interop-sha256";

  static final List<String> SUITES = List.of("aes-256-gcm", "chacha20-poly1305");
  static final List<String> COMPRESSIONS = List.of("on", "off");

  /** Lines per body: about 3 KiB of repetitive text, which LZ4 compresses well. */
  private static final int LINES = 40;

  private Variants() {}

  /** Returns the topic that producer {@code language} sends to. */
  static String topic(String language) {
    return "interop-" + language;
  }

  /** Returns the test body of one message; every language builds the same bytes. */
  static byte[] body(String producer, String suite, String compression, int sequence) {
    StringBuilder text = new StringBuilder();
    for (int line = 0; line < LINES; line++) {
      text.append("mqseal interop message from ")
          .append(producer)
          .append(": suite ")
          .append(suite)
          .append(", compression ")
          .append(compression)
          .append(", number ")
          .append(sequence)
          .append(", line ")
          .append(line)
          .append('\n');
    }
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }

  /** Returns a producer's cipher for one variant; the caller closes it. */
  static MqsealCipher cipher(Path keyring, String keyId, String suite, String compression) {
    return MqsealCipher.builder()
        .keyringPath(keyring)
        .keyIds(keyId)
        .suite(suite)
        .compression("on".equals(compression))
        .build();
  }

  /** Returns the envelope header of a received body, or null when the body is no envelope. */
  static EnvelopeInfo header(byte[] body) {
    try {
      return MqsealCipher.inspect(body);
    } catch (MqsealException e) {
      return null;
    }
  }

  static String sha256(byte[] data) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JDK has no SHA-256", e);
    }
  }
}
