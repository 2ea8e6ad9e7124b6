package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class CipherRoundTripTest {
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

  private static byte[] randomBody(int length) {
    byte[] body = new byte[length];
    new Random(length).nextBytes(body);
    return body;
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1024, 1 << 20})
  void byteArrayRoundTrip(int length) {
    byte[] body = randomBody(length);
    byte[] envelope = cipher.encrypt(body, CONTEXT);
    assertEquals(cipher.encryptedLength(length, CONTEXT), envelope.length);
    assertTrue(MqsealCipher.looksEncrypted(envelope));
    assertArrayEquals(body, cipher.decryptBody(envelope, CONTEXT));

    Decrypted decrypted = cipher.decrypt(envelope, CONTEXT);
    assertArrayEquals(body, decrypted.body());
    assertEquals("orders-kek", decrypted.keyId());
    assertEquals(1, decrypted.keyVersion());
    assertEquals("aes-256-gcm", decrypted.suite());
    assertFalse(decrypted.compressed());
    assertTrue(decrypted.sealedProperties().isEmpty());
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1024, 1 << 20})
  void heapBufferRoundTrip(int length) {
    byte[] body = randomBody(length);
    // Offsets inside larger arrays check that positions and array offsets are honoured.
    ByteBuffer input = ByteBuffer.allocate(length + 10);
    input.position(3);
    input.put(body);
    input.position(3).limit(3 + length);
    ByteBuffer sliced = input.slice();

    int size = cipher.encryptedLength(length, CONTEXT);
    ByteBuffer envelope = ByteBuffer.allocate(size + 7);
    envelope.position(5);
    int written = cipher.encrypt(sliced, envelope, CONTEXT);
    assertEquals(size, written);
    assertEquals(0, sliced.remaining());
    assertEquals(5 + size, envelope.position());

    envelope.flip().position(5);
    ByteBuffer out = ByteBuffer.allocate(length + 2);
    out.position(2);
    assertEquals(length, cipher.decrypt(envelope, out, CONTEXT));
    assertEquals(0, envelope.remaining());
    assertEquals(2 + length, out.position());
    byte[] actual = new byte[length];
    out.position(2);
    out.get(actual);
    assertArrayEquals(body, actual);
  }

  @ParameterizedTest
  @ValueSource(ints = {0, 1024, 1 << 20})
  void directBufferRoundTrip(int length) {
    byte[] body = randomBody(length);
    ByteBuffer input = ByteBuffer.allocateDirect(length + 4);
    input.position(4);
    input.put(body);
    input.position(4);

    ByteBuffer envelope = ByteBuffer.allocateDirect(cipher.encryptedLength(length, CONTEXT) + 9);
    envelope.position(9);
    int written = cipher.encrypt(input, envelope, CONTEXT);
    assertEquals(0, input.remaining());
    envelope.flip().position(9);
    assertEquals(written, envelope.remaining());

    byte[] asArray = new byte[written];
    envelope.duplicate().get(asArray);
    assertArrayEquals(body, cipher.decryptBody(asArray, CONTEXT));

    ByteBuffer out = ByteBuffer.allocateDirect(length);
    assertEquals(length, cipher.decrypt(envelope, out, CONTEXT));
    out.flip();
    byte[] actual = new byte[length];
    out.get(actual);
    assertArrayEquals(body, actual);
  }

  @Test
  void mixedHeapAndDirectBuffers() {
    byte[] body = randomBody(4096);
    ByteBuffer envelope = ByteBuffer.allocateDirect(cipher.encryptedLength(body.length, null));
    cipher.encrypt(ByteBuffer.wrap(body), envelope, null);
    envelope.flip();
    ByteBuffer out = ByteBuffer.allocate(body.length);
    cipher.decrypt(envelope, out, null);
    assertArrayEquals(body, out.array());
  }

  @Test
  void readOnlyHeapInputIsAccepted() {
    byte[] body = randomBody(100);
    ByteBuffer readOnly = ByteBuffer.wrap(body).asReadOnlyBuffer();
    ByteBuffer envelope = ByteBuffer.allocate(cipher.encryptedLength(body.length, null));
    cipher.encrypt(readOnly, envelope, null);
    assertEquals(0, readOnly.remaining());
    assertArrayEquals(body, cipher.decryptBody(envelope.array(), null));
  }

  @Test
  void readOnlyOutputIsRejected() {
    ByteBuffer out = ByteBuffer.allocate(1000).asReadOnlyBuffer();
    assertThrows(
        java.nio.ReadOnlyBufferException.class,
        () -> cipher.encrypt(ByteBuffer.wrap(new byte[10]), out, null));
  }

  @Test
  void sealedPropertiesRoundTrip() {
    Map<String, String> properties = Map.of("customer", "alice", "trace", "", "é-key", "ü");
    byte[] envelope = cipher.encrypt(randomBody(50), CONTEXT, properties);
    Decrypted decrypted = cipher.decrypt(envelope, CONTEXT);
    assertEquals(properties, decrypted.sealedProperties());
    assertTrue(MqsealCipher.inspect(envelope).sealedProperties());
  }

  @Test
  void encryptWithoutContext() {
    byte[] body = randomBody(10);
    byte[] envelope = cipher.encrypt(body);
    assertArrayEquals(body, cipher.decryptBody(envelope, null));
    assertArrayEquals(body, cipher.decryptBody(envelope, Map.of()));
  }

  @Test
  void envelopesDifferForSameBody() {
    byte[] body = randomBody(64);
    assertNotEquals(
        ByteBuffer.wrap(cipher.encrypt(body, CONTEXT)), ByteBuffer.wrap(cipher.encrypt(body)));
    byte[] first = cipher.encrypt(body, CONTEXT);
    byte[] second = cipher.encrypt(body, CONTEXT);
    assertNotEquals(ByteBuffer.wrap(first), ByteBuffer.wrap(second));
  }

  @Test
  void inspectReadsHeader() {
    byte[] envelope = cipher.encrypt(randomBody(100), CONTEXT);
    EnvelopeInfo info = MqsealCipher.inspect(envelope);
    assertEquals(1, info.version());
    assertEquals("aes-256-gcm", info.suite());
    assertEquals(List.of("orders-kek"), info.keyIds());
    assertEquals(List.of(1L), info.keyVersions());
    assertFalse(info.compressed());
    assertFalse(info.sealedProperties());
    assertTrue(info.storedContext().isEmpty());
    assertEquals(100, info.payloadLength());
    assertEquals(envelope.length, info.headerLength() + info.payloadLength() + 16);
  }

  @Test
  void looksEncryptedRejectsPlaintext() {
    assertFalse(MqsealCipher.looksEncrypted(new byte[0]));
    assertFalse(MqsealCipher.looksEncrypted("{\"id\":1}".getBytes()));
    assertTrue(MqsealCipher.looksEncrypted(cipher.encrypt(new byte[0])));
  }

  @Test
  void compressionAndStoredContext() {
    Path keyring = dir.resolve("keyring");
    MqsealKeyring.generate(keyring, "logs");
    try (MqsealCipher compressing =
        MqsealCipher.builder()
            .keyringPath(keyring)
            .keyIds("logs")
            .compression(true)
            .compressionMinSize(64)
            .storeContext(true)
            .build()) {
      byte[] body = "a repetitive log line\n".repeat(200).getBytes();
      byte[] envelope = compressing.encrypt(body, Map.of("topic", "logs"));
      assertTrue(envelope.length < body.length);
      EnvelopeInfo info = MqsealCipher.inspect(envelope);
      assertTrue(info.compressed());
      assertEquals(Map.of("topic", "logs"), info.storedContext());

      Decrypted decrypted = compressing.decrypt(envelope, null);
      assertTrue(decrypted.compressed());
      assertArrayEquals(body, decrypted.body());
      assertArrayEquals(body, compressing.decryptBody(envelope, Map.of()));

      ByteBuffer out = ByteBuffer.allocate(body.length);
      assertEquals(body.length, compressing.decrypt(ByteBuffer.wrap(envelope), out, null));
      assertArrayEquals(body, out.array());
    }
  }

  @Test
  void chachaSuite() {
    try (MqsealCipher chacha =
        MqsealCipher.builder()
            .keyringPath(dir.resolve("keyring"))
            .keyIds("orders-kek")
            .suite("chacha20-poly1305")
            .build()) {
      byte[] body = randomBody(300);
      byte[] envelope = chacha.encrypt(body, CONTEXT);
      assertEquals("chacha20-poly1305", MqsealCipher.inspect(envelope).suite());
      // Decryption takes the suite from the envelope, so any cipher on the keyring opens it.
      assertArrayEquals(body, cipher.decryptBody(envelope, CONTEXT));
    }
  }

  @Test
  void rotateAndRewrap() {
    Path keyring = dir.resolve("keyring");
    byte[] body = randomBody(200);
    byte[] before = cipher.encrypt(body, CONTEXT);

    assertEquals(2, MqsealKeyring.rotate(keyring, "orders-kek"));
    try (MqsealCipher rotated =
        MqsealCipher.builder().keyringPath(keyring).keyIds("orders-kek").build()) {
      byte[] rewrapped = rotated.rewrap(before);
      assertEquals(List.of(2L), MqsealCipher.inspect(rewrapped).keyVersions());
      assertArrayEquals(body, rotated.decryptBody(rewrapped, CONTEXT));
      assertArrayEquals(body, rotated.decryptBody(before, CONTEXT));

      rotated.rotate();
      assertEquals(List.of(2L), MqsealCipher.inspect(rotated.encrypt(body)).keyVersions());
    }
  }

  @Test
  void rotateStartsNewDataKey() {
    cipher.encrypt(randomBody(1));
    long created = cipher.counters().dataKeysCreated();
    cipher.rotate();
    cipher.encrypt(randomBody(1));
    assertEquals(created + 1, cipher.counters().dataKeysCreated());
  }

  @Test
  void countersTrackOperations() {
    byte[] envelope = cipher.encrypt(randomBody(10), CONTEXT);
    cipher.decryptBody(envelope, CONTEXT);
    assertThrows(
        AuthenticationFailedException.class,
        () -> cipher.decryptBody(envelope, Map.of("topic", "other")));
    Counters counters = cipher.counters();
    assertEquals(1, counters.encrypted());
    assertEquals(1, counters.decrypted());
    assertEquals(1, counters.decryptFailures());
    assertEquals(1, counters.dataKeysCreated());
    assertTrue(counters.providerCalls() >= 1);
    assertEquals(0, counters.providerFailures());
    assertEquals(counters.providerCalls(), counters.providerAttempts());
    assertEquals(0, counters.providerRetries());
    assertEquals(0, counters.providerTransientFailures());
    assertEquals(0, counters.breakerOpens());
    assertTrue(counters.providerLatencyMicrosMax() <= counters.providerLatencyMicrosTotal());
    assertTrue(counters.toString().contains("rotations=0"), counters.toString());
  }

  @Test
  void decryptOnlyCipherOpensEnvelopes() {
    byte[] body = randomBody(33);
    byte[] envelope = cipher.encrypt(body, CONTEXT);
    try (MqsealCipher consumer =
        MqsealCipher.builder().keyringPath(dir.resolve("keyring")).build()) {
      assertArrayEquals(body, consumer.decryptBody(envelope, CONTEXT));
      InvalidArgumentException e =
          assertThrows(InvalidArgumentException.class, () -> consumer.encrypt(body));
      assertEquals(ErrorCodes.INVALID_CONFIG, e.code());
    }
  }

  @Test
  void nativeVersionMatchesJar() {
    assertEquals(NativeLoader.jarVersion(), MqsealCipher.nativeVersion());
  }
}
