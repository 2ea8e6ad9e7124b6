package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CipherErrorTest {
  private static final Map<String, String> CONTEXT = Map.of("topic", "orders");

  @TempDir Path dir;
  private MqsealCipher cipher;

  @BeforeEach
  void open() {
    cipher = TestKeyring.cipher(dir, "orders-kek");
  }

  @AfterEach
  void close() {
    cipher.close();
  }

  @Test
  void contextMismatchFailsAuthentication() {
    byte[] envelope = cipher.encrypt("pay 10".getBytes(StandardCharsets.UTF_8), CONTEXT);
    AuthenticationFailedException e =
        assertThrows(
            AuthenticationFailedException.class,
            () -> cipher.decryptBody(envelope, Map.of("topic", "refunds")));
    assertEquals(ErrorCodes.AUTHENTICATION_FAILED, e.code());
    assertEquals("authentication_failed", e.codeName());
    assertThrows(AuthenticationFailedException.class, () -> cipher.decrypt(envelope, null));
  }

  @Test
  void plaintextIsNotEncrypted() {
    byte[] plaintext = "{\"order\":1}".getBytes(StandardCharsets.UTF_8);
    NotEncryptedException e =
        assertThrows(NotEncryptedException.class, () -> cipher.decryptBody(plaintext, CONTEXT));
    assertEquals(ErrorCodes.NOT_ENCRYPTED, e.code());
    assertThrows(NotEncryptedException.class, () -> cipher.decryptBody(new byte[0], CONTEXT));
    assertThrows(NotEncryptedException.class, () -> MqsealCipher.inspect(plaintext));
  }

  /** Flips every byte of a small envelope in turn; each must fail with a typed exception. */
  @Test
  void everyTamperedByteIsRejected() {
    byte[] envelope = cipher.encrypt("small body".getBytes(StandardCharsets.UTF_8), CONTEXT);
    Set<Class<?>> expected =
        Set.of(
            AuthenticationFailedException.class,
            MalformedEnvelopeException.class,
            NotEncryptedException.class,
            UnsupportedEnvelopeException.class,
            KeyNotFoundException.class);
    Map<String, Integer> seen = new HashMap<>();
    for (int i = 0; i < envelope.length; i++) {
      byte[] tampered = envelope.clone();
      tampered[i] ^= (byte) 0xFF;
      try {
        cipher.decryptBody(tampered, CONTEXT);
        fail("byte " + i + " flipped, but decryption succeeded");
      } catch (MqsealException e) {
        assertTrue(
            expected.contains(e.getClass()), "byte " + i + ": unexpected " + e.getClass() + " " + e);
        seen.merge(e.getClass().getSimpleName(), 1, Integer::sum);
      }
    }
    assertTrue(seen.containsKey("AuthenticationFailedException"), seen.toString());
    // The cipher still works after every failure.
    assertArrayEquals(
        "after".getBytes(StandardCharsets.UTF_8),
        cipher.decryptBody(cipher.encrypt("after".getBytes(StandardCharsets.UTF_8)), null));
  }

  @Test
  void truncatedEnvelopesAreRejected() {
    byte[] envelope = cipher.encrypt(new byte[40], CONTEXT);
    for (int length = 0; length < envelope.length; length++) {
      byte[] truncated = java.util.Arrays.copyOf(envelope, length);
      MqsealException e =
          assertThrows(MqsealException.class, () -> cipher.decryptBody(truncated, CONTEXT));
      assertTrue(
          e instanceof MalformedEnvelopeException
              || e instanceof NotEncryptedException
              || e instanceof AuthenticationFailedException,
          "length " + length + ": " + e);
    }
  }

  @Test
  void encryptBufferTooSmallReportsRequiredSize() {
    byte[] body = new byte[1024];
    int required = cipher.encryptedLength(body.length, CONTEXT);
    ByteBuffer input = ByteBuffer.wrap(body);
    ByteBuffer out = ByteBuffer.allocateDirect(required - 1);
    BufferTooSmallException e =
        assertThrows(BufferTooSmallException.class, () -> cipher.encrypt(input, out, CONTEXT));
    assertEquals(required, e.requiredSize());
    assertEquals(ErrorCodes.BUFFER_TOO_SMALL, e.code());
    assertEquals(0, input.position());
    assertEquals(0, out.position());
  }

  @Test
  void decryptBufferTooSmallReportsRequiredSize() {
    byte[] envelope = cipher.encrypt(new byte[500], CONTEXT);
    ByteBuffer input = ByteBuffer.wrap(envelope);
    ByteBuffer out = ByteBuffer.allocate(499);
    BufferTooSmallException e =
        assertThrows(BufferTooSmallException.class, () -> cipher.decrypt(input, out, CONTEXT));
    assertEquals(500, e.requiredSize());
    assertEquals(0, input.position());
    assertEquals(0, out.position());
  }

  @Test
  void overlappingBuffersAreRejected() {
    byte[] shared = new byte[4096];
    ByteBuffer input = ByteBuffer.wrap(shared, 0, 100);
    ByteBuffer out = ByteBuffer.wrap(shared, 50, 4000);
    InvalidArgumentException e =
        assertThrows(InvalidArgumentException.class, () -> cipher.encrypt(input, out, null));
    assertTrue(e.getMessage().contains("overlap"), e.getMessage());

    // Disjoint parts of one array are fine.
    ByteBuffer disjointOut = ByteBuffer.wrap(shared, 100, 3996);
    int written = cipher.encrypt(ByteBuffer.wrap(shared, 0, 100), disjointOut, null);
    assertEquals(cipher.encryptedLength(100, null), written);
  }

  @Test
  void nullArgumentsAreRejected() {
    InvalidArgumentException e =
        assertThrows(InvalidArgumentException.class, () -> cipher.encrypt((byte[]) null));
    assertEquals(ErrorCodes.NULL_ARGUMENT, e.code());
    assertThrows(InvalidArgumentException.class, () -> cipher.decryptBody(null, null));
    assertThrows(
        InvalidArgumentException.class, () -> cipher.encrypt(null, ByteBuffer.allocate(1), null));
    assertThrows(InvalidArgumentException.class, () -> MqsealCipher.inspect(null));
  }

  @Test
  void invalidContextIsRejected() {
    Map<String, String> emptyKey = new HashMap<>();
    emptyKey.put("", "x");
    assertThrows(InvalidArgumentException.class, () -> cipher.encrypt(new byte[1], emptyKey));
    Map<String, String> nullValue = new HashMap<>();
    nullValue.put("topic", null);
    assertThrows(InvalidArgumentException.class, () -> cipher.encrypt(new byte[1], nullValue));
    Map<String, String> badUnicode = Map.of("topic", "\uD800");
    assertThrows(InvalidArgumentException.class, () -> cipher.encrypt(new byte[1], badUnicode));
    Map<String, String> tooLong = Map.of("topic", "x".repeat(70_000));
    assertThrows(InvalidArgumentException.class, () -> cipher.encrypt(new byte[1], tooLong));
  }

  @Test
  void bodyOverMaxLengthExceedsLimit() {
    try (MqsealCipher small =
        MqsealCipher.builder()
            .keyringPath(dir.resolve("keyring"))
            .keyIds("orders-kek")
            .maxBodyLength(100)
            .build()) {
      UsageLimitExceededException e =
          assertThrows(UsageLimitExceededException.class, () -> small.encrypt(new byte[101]));
      assertEquals(ErrorCodes.USAGE_LIMIT_EXCEEDED, e.code());
    }
  }

  @Test
  void unknownKeyIdFailsOnFirstEncrypt() {
    try (MqsealCipher unknown =
        MqsealCipher.builder().keyringPath(dir.resolve("keyring")).keyIds("missing").build()) {
      KeyNotFoundException e =
          assertThrows(KeyNotFoundException.class, () -> unknown.encrypt(new byte[1]));
      assertTrue(e.getMessage().contains("missing"), e.getMessage());
      assertEquals(1, unknown.counters().providerFailures());
    }
  }

  @Test
  void envelopeFromOtherKeyringIsKeyNotFound() {
    Path otherDir = dir.resolve("other");
    otherDir.toFile().mkdirs();
    try (MqsealCipher other = TestKeyring.cipher(otherDir, "billing-kek")) {
      byte[] envelope = other.encrypt(new byte[8], CONTEXT);
      KeyNotFoundException e =
          assertThrows(KeyNotFoundException.class, () -> cipher.decryptBody(envelope, CONTEXT));
      assertEquals(ErrorCodes.KEY_NOT_FOUND, e.code());
    }
  }
}
