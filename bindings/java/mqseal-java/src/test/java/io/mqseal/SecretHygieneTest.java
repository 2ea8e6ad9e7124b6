package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Runs failing and succeeding operations with a sentinel key-encryption key and a sentinel body,
 * and checks that no exception text, stack trace, {@code toString()} or output on stdout and
 * stderr (where SLF4J's simple logger writes) contains either sentinel, raw, in hex or in base64.
 */
class SecretHygieneTest {
  /** Test vector: a 32-byte KEK made of printable text, so any leak of it is easy to spot. */
  private static final byte[] SENTINEL_KEK =
      "mqseal-sentinel-KEK-0123456789AB".getBytes(StandardCharsets.US_ASCII);

  private static final byte[] SENTINEL_BODY =
      "SENTINEL-PLAINTEXT-4f1c9a7e-card-4111111111111111"
          .getBytes(StandardCharsets.US_ASCII);

  @TempDir Path dir;

  /** Returns the forms in which {@code secret} could leak into text. */
  static List<String> leakForms(byte[] secret) {
    List<String> forms = new ArrayList<>();
    forms.add(new String(secret, StandardCharsets.ISO_8859_1));
    String hex = HexFormat.of().formatHex(secret);
    forms.add(hex);
    forms.add(hex.toUpperCase(Locale.ROOT));
    forms.add(Arrays.toString(secret));
    // Base64 of the secret at each of the three alignments a longer encoded text can have,
    // without the edge characters that depend on the neighbouring bytes.
    for (int shift = 0; shift < 3; shift++) {
      byte[] shifted = new byte[shift + secret.length];
      System.arraycopy(secret, 0, shifted, shift, secret.length);
      for (Base64.Encoder encoder :
          List.of(Base64.getEncoder().withoutPadding(), Base64.getUrlEncoder().withoutPadding())) {
        String encoded = encoder.encodeToString(shifted);
        int skip = shift == 0 ? 0 : (shift * 8 + 5) / 6;
        forms.add(encoded.substring(skip, encoded.length() - 2));
      }
    }
    return forms;
  }

  static void assertNoSentinel(String text, String where) {
    for (byte[] secret : List.of(SENTINEL_KEK, SENTINEL_BODY)) {
      for (String form : leakForms(secret)) {
        assertFalse(text.contains(form), where + " contains a sentinel form: " + form);
      }
    }
  }

  private Path sentinelKeyring() throws Exception {
    Path file = dir.resolve("sentinel-keyring");
    return TestKeyring.write(
        file,
        "mqseal-keyring 1\nkey k 1 " + HexFormat.of().formatHex(SENTINEL_KEK) + "\nprimary k 1\n");
  }

  private static String describe(Throwable e) {
    StringWriter trace = new StringWriter();
    e.printStackTrace(new PrintWriter(trace));
    return e + "\n" + e.getMessage() + "\n" + trace;
  }

  @Test
  void failuresLeakNoSentinel() throws Exception {
    Path keyring = sentinelKeyring();
    PrintStream originalOut = System.out;
    PrintStream originalErr = System.err;
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream capture = new PrintStream(captured, true, StandardCharsets.UTF_8);
    List<String> texts = new ArrayList<>();
    System.setOut(capture);
    System.setErr(capture);
    try (MqsealCipher cipher =
            MqsealCipher.builder().keyringPath(keyring).keyIds("k").maxBodyLength(4096).build();
        MqsealCipher other = TestKeyring.cipher(dir, "k")) {
      Map<String, String> context = Map.of("topic", "orders");
      byte[] envelope = cipher.encrypt(SENTINEL_BODY, context, Map.of("trace", "t-1"));
      // Success paths: the decrypted result and the envelope description.
      Decrypted decrypted = cipher.decrypt(envelope, context);
      assertArrayEquals(SENTINEL_BODY, decrypted.body());
      texts.add(decrypted.toString());
      texts.add(MqsealCipher.inspect(envelope).toString());
      texts.add(cipher.toString());
      texts.add(cipher.counters().toString());

      List<Runnable> failures = new ArrayList<>();
      for (int i = 0; i < envelope.length; i += 3) {
        byte[] tampered = envelope.clone();
        tampered[i] ^= 0x40;
        failures.add(() -> cipher.decrypt(tampered, context));
      }
      for (int length = 0; length < envelope.length; length += 5) {
        byte[] truncated = Arrays.copyOf(envelope, length);
        failures.add(() -> cipher.decryptBody(truncated, context));
      }
      failures.add(() -> cipher.decrypt(envelope, Map.of("topic", "other")));
      failures.add(() -> other.decryptBody(envelope, context));
      failures.add(() -> cipher.decryptBody(SENTINEL_BODY, context));
      failures.add(() -> MqsealCipher.inspect(SENTINEL_BODY));
      failures.add(() -> cipher.encrypt(Arrays.copyOf(SENTINEL_BODY, 5000)));
      failures.add(
          () ->
              cipher.encrypt(ByteBuffer.wrap(SENTINEL_BODY), ByteBuffer.allocateDirect(8), null));
      failures.add(
          () -> cipher.decrypt(ByteBuffer.wrap(envelope), ByteBuffer.allocate(4), context));
      failures.add(() -> cipher.encrypt(SENTINEL_BODY, Map.of("", "x")));
      failures.add(
          () ->
              MqsealCipher.fromConfig(
                  "keyring.path = " + keyring + "\nkey_id = k\nlimits.max_messages = "
                      + "not-a-number"));
      for (int i = 0; i < failures.size(); i++) {
        MqsealException e =
            assertThrows(MqsealException.class, failures.get(i)::run, "failure " + i);
        texts.add(describe(e));
      }
      MqsealException panic =
          assertThrows(MqsealException.class, MqsealCipher::debugForcePanic);
      texts.add(describe(panic));
    } finally {
      System.setOut(originalOut);
      System.setErr(originalErr);
    }
    texts.add(captured.toString(StandardCharsets.UTF_8));
    assertTrue(texts.size() > 20, "ran the failing operations");
    for (int i = 0; i < texts.size(); i++) {
      assertNoSentinel(texts.get(i), "text " + i);
    }
  }

  /** A provider exception's own message stays in the cause, out of the mqseal message. */
  @Test
  void providerFailureMessageStaysInCause() {
    String kekHex = HexFormat.of().formatHex(SENTINEL_KEK);
    KeyProviderTest.HookedProvider provider = new KeyProviderTest.HookedProvider("kms/h");
    byte[] envelope;
    try (MqsealCipher producer = KeyProviderTest.cipherWith(provider, "kms/h")) {
      envelope = producer.encrypt(SENTINEL_BODY);
    }
    provider.unwrapHook =
        key -> {
          throw new IllegalStateException("client dumped key " + kekHex);
        };
    try (MqsealCipher consumer = KeyProviderTest.cipherWith(provider, "kms/h")) {
      MqsealException e =
          assertThrows(MqsealException.class, () -> consumer.decryptBody(envelope, null));
      assertNoSentinel(e.getMessage(), "mqseal message");
      assertNoSentinel(e.toString(), "mqseal toString");
      assertTrue(e.getCause().getMessage().contains(kekHex), "the cause keeps its message");
    }
  }

  @Test
  void leakFormsFindEncodedSentinels() {
    String padded = "x" + Base64.getEncoder().encodeToString(
        ("ab" + new String(SENTINEL_KEK, StandardCharsets.US_ASCII) + "cd")
            .getBytes(StandardCharsets.US_ASCII));
    assertThrows(AssertionError.class, () -> assertNoSentinel(padded, "base64 at shift 2"));
    String hex = "key=" + HexFormat.of().formatHex(SENTINEL_BODY).toUpperCase(Locale.ROOT);
    assertThrows(AssertionError.class, () -> assertNoSentinel(hex, "upper-case hex"));
  }
}
