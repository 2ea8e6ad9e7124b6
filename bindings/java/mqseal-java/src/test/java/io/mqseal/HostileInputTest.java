package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Hostile envelopes and arguments: every one must end in the documented typed exception, with no
 * crash, no partial plaintext in an output buffer and no leaked native handle.
 */
class HostileInputTest {
  private static final Map<String, String> CONTEXT = Map.of("topic", "orders");
  private static final Set<Class<?>> ENVELOPE_ERRORS =
      Set.of(
          AuthenticationFailedException.class,
          MalformedEnvelopeException.class,
          NotEncryptedException.class,
          UnsupportedEnvelopeException.class,
          KeyNotFoundException.class);

  @TempDir Path dir;

  private MqsealCipher cipher(String suite, boolean compression) {
    return MqsealCipher.builder()
        .keyringPath(TestKeyring.create(dir, "k"))
        .keyIds("k")
        .suite(suite)
        .compression(compression)
        .compressionMinSize(16)
        .build();
  }

  /** Returns a compressible body, so the compressed configurations really compress it. */
  private static byte[] body() {
    return "order=42;item=book;qty=1;".repeat(20).getBytes(StandardCharsets.UTF_8);
  }

  /**
   * Decrypts {@code envelope}, which must fail, through {@code byte[]}, a direct and a heap
   * buffer. Output buffers must stay all zero and keep their positions. Returns the exception.
   */
  private static MqsealException rejectEverywhere(
      MqsealCipher cipher, byte[] envelope, int outputSize, String what) {
    MqsealException first = null;
    try {
      cipher.decryptBody(envelope, CONTEXT);
      fail(what + ": decryptBody succeeded");
    } catch (MqsealException e) {
      assertTrue(ENVELOPE_ERRORS.contains(e.getClass()), what + ": " + e);
      first = e;
    }
    for (boolean direct : new boolean[] {true, false}) {
      ByteBuffer in = direct ? ByteBuffer.allocateDirect(envelope.length) : ByteBuffer.allocate(envelope.length);
      in.put(envelope).flip();
      ByteBuffer out = direct ? ByteBuffer.allocateDirect(outputSize) : ByteBuffer.allocate(outputSize);
      MqsealException e =
          assertThrows(MqsealException.class, () -> cipher.decrypt(in, out, CONTEXT), what);
      // A tampered header may declare a longer plaintext than the output holds; that is
      // reported before authentication, as a too small buffer.
      if (e.code() != ErrorCodes.BUFFER_TOO_SMALL) {
        assertEquals(first.code(), e.code(), what + " direct=" + direct);
      }
      assertEquals(0, in.position(), what);
      assertEquals(0, out.position(), what);
      for (int i = 0; i < outputSize; i++) {
        if (out.get(i) != 0) {
          fail(what + " direct=" + direct + ": output byte " + i + " was written");
        }
      }
    }
    return first;
  }

  @ParameterizedTest
  @CsvSource({
    "aes-256-gcm, false",
    "aes-256-gcm, true",
    "chacha20-poly1305, false",
    "chacha20-poly1305, true"
  })
  void everyBitFlipIsRejected(String suite, boolean compression) throws Exception {
    long[] before = MqsealNative.debugLiveObjects();
    try (MqsealCipher cipher = cipher(suite, compression)) {
      byte[] body = body();
      byte[] envelope = cipher.encrypt(body, CONTEXT, Map.of("trace", "t-1"));
      assertEquals(compression, MqsealCipher.inspect(envelope).compressed());
      Map<String, Integer> seen = new TreeMap<>();
      for (int bit = 0; bit < envelope.length * 8; bit++) {
        byte[] tampered = envelope.clone();
        tampered[bit / 8] ^= (byte) (1 << (bit % 8));
        MqsealException e = rejectEverywhere(cipher, tampered, body.length, "bit " + bit);
        seen.merge(e.codeName(), 1, Integer::sum);
      }
      assertTrue(seen.containsKey("authentication_failed"), seen.toString());
      assertArrayEquals(body, cipher.decryptBody(envelope, CONTEXT), "intact envelope");
    }
    TestKeyring.assertNoLeak(before);
  }

  @ParameterizedTest
  @CsvSource({
    "aes-256-gcm, false",
    "aes-256-gcm, true",
    "chacha20-poly1305, false",
    "chacha20-poly1305, true"
  })
  void everyTruncationIsRejected(String suite, boolean compression) {
    try (MqsealCipher cipher = cipher(suite, compression)) {
      byte[] body = body();
      byte[] envelope = cipher.encrypt(body, CONTEXT);
      for (int length = 0; length < envelope.length; length++) {
        rejectEverywhere(cipher, Arrays.copyOf(envelope, length), body.length, "length " + length);
      }
    }
  }

  @Test
  void headerFieldsMapToTheirCodes() {
    try (MqsealCipher cipher = cipher("aes-256-gcm", false)) {
      byte[] envelope = cipher.encrypt(body(), CONTEXT);
      int[][] cases = {
        // offset, new value, expected code
        {0, 0x7B, ErrorCodes.NOT_ENCRYPTED},
        {1, 0x02, ErrorCodes.UNSUPPORTED_VERSION},
        {1, 0xFF, ErrorCodes.UNSUPPORTED_VERSION},
        {2, 0x09, ErrorCodes.UNSUPPORTED_SUITE},
        {3, 0x08, ErrorCodes.UNSUPPORTED_FEATURE},
        {4, 0x00, ErrorCodes.MALFORMED_ENVELOPE},
      };
      for (int[] c : cases) {
        byte[] patched = envelope.clone();
        patched[c[0]] = (byte) c[1];
        MqsealException e =
            rejectEverywhere(cipher, patched, 1024, "byte " + c[0] + " = " + c[1]);
        assertEquals(c[2], e.code(), "byte " + c[0] + " = " + c[1] + ": " + e);
      }
    }
  }

  @Test
  void wrongContextKeyAndVersionAreRejected() throws Exception {
    Path keyring = TestKeyring.create(dir, "k");
    byte[] envelope;
    try (MqsealCipher cipher = MqsealCipher.builder().keyringPath(keyring).keyIds("k").build()) {
      envelope = cipher.encrypt(body(), CONTEXT);
      AuthenticationFailedException e =
          assertThrows(
              AuthenticationFailedException.class,
              () -> cipher.decryptBody(envelope, Map.of("topic", "payments")));
      assertEquals(ErrorCodes.AUTHENTICATION_FAILED, e.code());
    }
    Path other = dir.resolve("other");
    Files.createDirectories(other);
    try (MqsealCipher stranger =
        MqsealCipher.builder().keyringPath(TestKeyring.create(other, "k")).build()) {
      MqsealException e = rejectEverywhere(stranger, envelope, 1024, "other keyring");
      assertEquals(ErrorCodes.AUTHENTICATION_FAILED, e.code(), e.toString());
    }
    // A keyring that holds only version 2 of the key lacks the envelope's version 1.
    Path versionTwo = dir.resolve("version-two");
    TestKeyring.write(
        versionTwo, "mqseal-keyring 1\nkey k 2 " + "ab".repeat(32) + "\nprimary k 2\n");
    try (MqsealCipher rotated = MqsealCipher.builder().keyringPath(versionTwo).build()) {
      MqsealException e = rejectEverywhere(rotated, envelope, 1024, "missing version");
      assertEquals(ErrorCodes.KEY_VERSION_NOT_FOUND, e.code(), e.toString());
    }
  }

  @Test
  void plaintextIsNotEncrypted() {
    try (MqsealCipher cipher = cipher("aes-256-gcm", false)) {
      List<byte[]> bodies =
          List.of(
              new byte[0],
              "{\"order\":1}".getBytes(StandardCharsets.UTF_8),
              "<xml/>".getBytes(StandardCharsets.UTF_8),
              new byte[] {0x00, 0x01});
      for (byte[] plaintext : bodies) {
        MqsealException e = rejectEverywhere(cipher, plaintext, 64, Arrays.toString(plaintext));
        assertEquals(ErrorCodes.NOT_ENCRYPTED, e.code());
      }
      // The magic byte alone is an envelope cut short.
      MqsealException e = rejectEverywhere(cipher, new byte[] {(byte) 0x8E}, 64, "magic only");
      assertTrue(e instanceof MalformedEnvelopeException, e.toString());
    }
  }

  @Test
  void emptyAndMaximumBodiesRoundTrip() {
    int max = 64 * 1024;
    try (MqsealCipher cipher =
            MqsealCipher.builder()
                .keyringPath(TestKeyring.create(dir, "k"))
                .keyIds("k")
                .maxBodyLength(max)
                .build();
        MqsealCipher small =
            MqsealCipher.builder().keyringPath(dir.resolve("keyring")).maxBodyLength(max - 1).build()) {
      assertArrayEquals(new byte[0], cipher.decryptBody(cipher.encrypt(new byte[0]), null));
      ByteBuffer out = ByteBuffer.allocateDirect(16);
      assertEquals(0, cipher.decrypt(ByteBuffer.wrap(cipher.encrypt(new byte[0])), out, null));

      byte[] largest = new byte[max];
      Arrays.fill(largest, (byte) 7);
      byte[] envelope = cipher.encrypt(largest);
      assertArrayEquals(largest, cipher.decryptBody(envelope, null));

      UsageLimitExceededException tooLarge =
          assertThrows(UsageLimitExceededException.class, () -> cipher.encrypt(new byte[max + 1]));
      assertEquals(ErrorCodes.USAGE_LIMIT_EXCEEDED, tooLarge.code());
      // A consumer with a lower limit rejects the body instead of producing it.
      UsageLimitExceededException produced =
          assertThrows(UsageLimitExceededException.class, () -> small.decryptBody(envelope, null));
      assertEquals(ErrorCodes.USAGE_LIMIT_EXCEEDED, produced.code());
    }
  }

  /** The package-private native methods check offsets and lengths again; call them directly. */
  @Test
  void nativeMethodsRejectBadRegions() throws Exception {
    long[] before = MqsealNative.debugLiveObjects();
    MqsealCipher cipher = cipher("aes-256-gcm", false);
    byte[] envelope = cipher.encrypt(new byte[10]);
    byte[] out = new byte[64];
    ByteBuffer direct = ByteBuffer.allocateDirect(64);
    long pointer = cipher.handleForTests().acquire();
    try {
      int[][] regions = {
        {-1, 4}, {0, -1}, {Integer.MAX_VALUE, 1}, {1, Integer.MAX_VALUE}, {0, envelope.length + 1},
        {envelope.length, 1}, {Integer.MIN_VALUE, Integer.MIN_VALUE},
      };
      for (int[] r : regions) {
        String what = "offset " + r[0] + " length " + r[1];
        InvalidArgumentException e =
            assertThrows(
                InvalidArgumentException.class,
                () -> MqsealNative.decryptBody(pointer, envelope, r[0], r[1], null),
                what);
        assertEquals(ErrorCodes.INVALID_ARGUMENT, e.code(), what);
        assertThrows(
            InvalidArgumentException.class,
            () -> MqsealNative.encrypt(pointer, envelope, r[0], r[1], null, null),
            what);
        assertThrows(
            InvalidArgumentException.class,
            () ->
                MqsealNative.decryptInto(
                    pointer, envelope, null, 0, envelope.length, null, direct, r[0], r[1], null),
            what);
      }
      // Exactly one of array and buffer per region.
      assertThrows(
          InvalidArgumentException.class,
          () -> MqsealNative.decryptInto(pointer, null, null, 0, 0, out, null, 0, 1, null));
      assertThrows(
          InvalidArgumentException.class,
          () ->
              MqsealNative.decryptInto(
                  pointer, envelope, direct, 0, envelope.length, out, null, 0, 1, null));
      assertThrows(
          InvalidArgumentException.class, () -> MqsealNative.encryptedLength(pointer, -1, null));
    } finally {
      cipher.handleForTests().release();
    }
    HandleClosedException closed =
        assertThrows(
            HandleClosedException.class,
            () -> MqsealNative.decryptBody(0, envelope, 0, envelope.length, null));
    assertEquals(ErrorCodes.HANDLE_CLOSED, closed.code());
    cipher.close();
    cipher.close();
    assertThrows(HandleClosedException.class, () -> cipher.decryptBody(envelope, null));
    assertThrows(HandleClosedException.class, () -> cipher.encryptedLength(1, null));
    TestKeyring.assertNoLeak(before);
  }

  @Test
  void nullArgumentsAreRejected() {
    try (MqsealCipher cipher = cipher("aes-256-gcm", false)) {
      List<Runnable> calls =
          List.of(
              () -> cipher.encrypt((byte[]) null),
              () -> cipher.encrypt(null, Map.of()),
              () -> cipher.decrypt((byte[]) null, null),
              () -> cipher.decryptBody(null, null),
              () -> cipher.decrypt(null, ByteBuffer.allocate(1), null),
              () -> cipher.decrypt(ByteBuffer.allocate(1), null, null),
              () -> cipher.encrypt(ByteBuffer.allocate(1), null, null),
              () -> cipher.rewrap(null),
              () -> MqsealCipher.looksEncrypted(null),
              () -> MqsealCipher.fromConfig(null),
              () -> MqsealKeyring.generate(null, "k"));
      for (int i = 0; i < calls.size(); i++) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, calls.get(i)::run);
        assertEquals(ErrorCodes.NULL_ARGUMENT, e.code(), "call " + i + ": " + e);
      }
    }
  }

  /**
   * Eight threads encrypt and decrypt for a fixed number of rounds over a two-entry cache and
   * one-message data keys, through every API shape, checking each result.
   */
  @Test
  void sustainedThreadsWithTinyCache() throws Exception {
    long[] before = MqsealNative.debugLiveObjects();
    int threads = 8;
    int rounds = 400;
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyringPath(TestKeyring.create(dir, "k"))
            .keyIds("k")
            .cacheCapacity(2)
            .maxMessagesPerKey(1)
            .build()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  int checked = 0;
                  byte[] previous = null;
                  byte[] previousBody = null;
                  for (int i = 0; i < rounds; i++) {
                    byte[] body = ("t" + thread + "-" + i + "-").repeat(i % 50 + 1).getBytes();
                    byte[] envelope = cipher.encrypt(body, CONTEXT);
                    switch (i % 3) {
                      case 0:
                        assertArrayEquals(body, cipher.decryptBody(envelope, CONTEXT));
                        break;
                      case 1:
                        ByteBuffer out = ByteBuffer.allocateDirect(body.length);
                        assertEquals(
                            body.length, cipher.decrypt(ByteBuffer.wrap(envelope), out, CONTEXT));
                        byte[] copy = new byte[body.length];
                        out.flip().get(copy);
                        assertArrayEquals(body, copy);
                        break;
                      default:
                        assertArrayEquals(body, cipher.decrypt(envelope, CONTEXT).body());
                        break;
                    }
                    checked++;
                    if (previous != null) {
                      // The previous data key was probably evicted from the two-entry cache.
                      assertArrayEquals(previousBody, cipher.decryptBody(previous, CONTEXT));
                      checked++;
                    }
                    previous = envelope;
                    previousBody = body;
                  }
                  return checked;
                }));
      }
      int total = 0;
      for (Future<Integer> result : results) {
        total += result.get(300, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertEquals(threads * (2 * rounds - 1), total);
      Counters counters = cipher.counters();
      assertEquals(threads * rounds, counters.encrypted());
      assertEquals(0, counters.decryptFailures());
      assertTrue(
          counters.dataKeysCreated() >= threads * rounds,
          "data keys created: " + counters.dataKeysCreated());
    }
    TestKeyring.assertNoLeak(before);
  }
}
