package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import javax.crypto.Cipher;
import javax.crypto.KeyGenerator;
import javax.crypto.SecretKey;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Key providers implemented in Java: round trips, failures, threads and lifecycle. */
class KeyProviderTest {
  private static final SecureRandom RANDOM = new SecureRandom();

  /** Wraps data keys with AES-KW (RFC 3394) under versioned KEKs generated at test time. */
  static class AesKwProvider implements KeyProvider {
    final String keyId;
    final Map<Long, SecretKey> versions = new ConcurrentHashMap<>();
    volatile long primary;
    final AtomicInteger wraps = new AtomicInteger();
    final AtomicInteger unwraps = new AtomicInteger();

    AesKwProvider(String keyId) {
      this.keyId = keyId;
      this.primary = 1;
      versions.put(1L, newKek());
    }

    static SecretKey newKek() {
      try {
        KeyGenerator generator = KeyGenerator.getInstance("AES");
        generator.init(256);
        return generator.generateKey();
      } catch (GeneralSecurityException e) {
        throw new IllegalStateException(e);
      }
    }

    @Override
    public boolean recognizes(String id) {
      return keyId.equals(id);
    }

    @Override
    public WrappedKey wrap(String id, byte[] dataKey) throws Exception {
      wraps.incrementAndGet();
      Cipher kw = Cipher.getInstance("AESWrap");
      kw.init(Cipher.WRAP_MODE, versions.get(primary));
      return new WrappedKey(primary, kw.wrap(new SecretKeySpec(dataKey, "AES")));
    }

    @Override
    public byte[] unwrap(String id, long keyVersion, byte[] wrappedKey) throws Exception {
      unwraps.incrementAndGet();
      SecretKey kek = versions.get(keyVersion);
      if (kek == null) {
        throw new KeyNotFoundException(
            ErrorCodes.KEY_VERSION_NOT_FOUND, "no version " + keyVersion + " of " + id);
      }
      Cipher kw = Cipher.getInstance("AESWrap");
      kw.init(Cipher.UNWRAP_MODE, kek);
      return kw.unwrap(wrappedKey, "AES", Cipher.SECRET_KEY).getEncoded();
    }

    @Override
    public long primaryVersion(String id) {
      return primary;
    }
  }

  /** Generates data keys itself and wraps them with AES-GCM, as a KMS's GenerateDataKey. */
  static final class AesGcmProvider implements KeyProvider {
    private final SecretKey kek = AesKwProvider.newKek();
    final AtomicInteger generated = new AtomicInteger();

    @Override
    public boolean recognizes(String keyId) {
      return keyId.startsWith("gcm/");
    }

    @Override
    public WrappedKey wrap(String keyId, byte[] dataKey) throws Exception {
      byte[] nonce = new byte[12];
      RANDOM.nextBytes(nonce);
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.ENCRYPT_MODE, kek, new GCMParameterSpec(128, nonce));
      gcm.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
      byte[] sealed = gcm.doFinal(dataKey);
      byte[] out = new byte[12 + sealed.length];
      System.arraycopy(nonce, 0, out, 0, 12);
      System.arraycopy(sealed, 0, out, 12, sealed.length);
      return new WrappedKey(7, out);
    }

    @Override
    public byte[] unwrap(String keyId, long keyVersion, byte[] wrappedKey) throws Exception {
      Cipher gcm = Cipher.getInstance("AES/GCM/NoPadding");
      gcm.init(Cipher.DECRYPT_MODE, kek, new GCMParameterSpec(128, wrappedKey, 0, 12));
      gcm.updateAAD(keyId.getBytes(StandardCharsets.UTF_8));
      return gcm.doFinal(wrappedKey, 12, wrappedKey.length - 12);
    }

    @Override
    public GeneratedKey generateDataKey(String keyId) throws Exception {
      generated.incrementAndGet();
      byte[] key = new byte[32];
      RANDOM.nextBytes(key);
      WrappedKey wrapped = wrap(keyId, key);
      return new GeneratedKey(wrapped.keyVersion(), key, wrapped.wrappedKey());
    }
  }

  /** An AES-KW provider whose unwrap runs a hook first, to throw or return bad keys. */
  static final class HookedProvider extends AesKwProvider {
    interface Hook {
      byte[] apply(byte[] key) throws Exception;
    }

    volatile Hook unwrapHook = key -> key;

    HookedProvider(String keyId) {
      super(keyId);
    }

    @Override
    public byte[] unwrap(String id, long keyVersion, byte[] wrappedKey) throws Exception {
      return unwrapHook.apply(super.unwrap(id, keyVersion, wrappedKey));
    }
  }

  static MqsealCipher cipherWith(KeyProvider provider, String keyId) {
    return MqsealCipher.builder().keyProvider(provider).keyIds(keyId).build();
  }

  @Test
  void aesKwProviderRoundTrips() throws Exception {
    long[] before = TestKeyring.live();
    AesKwProvider provider = new AesKwProvider("kms/orders");
    byte[] body = "order 42 shipped".getBytes(StandardCharsets.UTF_8);
    byte[] envelope;
    try (MqsealCipher producer = cipherWith(provider, "kms/orders")) {
      envelope = producer.encrypt(body, Map.of("topic", "orders"));
      assertEquals(1, provider.wraps.get());
    }
    // A second cipher has an empty cache, so decryption must call unwrap.
    try (MqsealCipher consumer = cipherWith(provider, "kms/orders")) {
      Decrypted decrypted = consumer.decrypt(envelope, Map.of("topic", "orders"));
      assertArrayEquals(body, decrypted.body());
      assertEquals("kms/orders", decrypted.keyId());
      assertEquals(1, decrypted.keyVersion());
      assertEquals(1, provider.unwraps.get());
    }
    TestKeyring.assertNoLeak(before);
  }

  @Test
  void generatingProviderRoundTrips() {
    AesGcmProvider provider = new AesGcmProvider();
    byte[] body = new byte[40_000];
    RANDOM.nextBytes(body);
    byte[] envelope;
    try (MqsealCipher producer = cipherWith(provider, "gcm/payments")) {
      envelope = producer.encrypt(body);
    }
    assertEquals(1, provider.generated.get());
    assertEquals(7L, MqsealCipher.inspect(envelope).keyVersions().get(0));
    try (MqsealCipher consumer = cipherWith(provider, "gcm/payments")) {
      assertArrayEquals(body, consumer.decryptBody(envelope, null));
    }
  }

  @Test
  void providerWorksFromConfigText() {
    AesKwProvider provider = new AesKwProvider("kms/config");
    try (MqsealCipher cipher =
        MqsealCipher.fromConfig("provider = callback\nkey_id = kms/config\n", provider)) {
      byte[] body = "from config".getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(body, cipher.decryptBody(cipher.encrypt(body), null));
    }
  }

  @Test
  void keyringAndProviderServeTheirKeyIds(@TempDir Path dir) {
    AesKwProvider provider = new AesKwProvider("kms/b");
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyringPath(TestKeyring.create(dir, "local-a"))
            .keyProvider(provider)
            .keyIds("local-a", "kms/b")
            .build()) {
      byte[] envelope = cipher.encrypt(new byte[] {1, 2, 3});
      assertEquals(List.of("local-a", "kms/b"), MqsealCipher.inspect(envelope).keyIds());
      assertEquals(1, provider.wraps.get());
    }
  }

  @Test
  void keyArraysAreZeroedAfterUse() {
    AtomicReference<byte[]> wrapInput = new AtomicReference<>();
    AtomicReference<byte[]> returned = new AtomicReference<>();
    AesKwProvider inner = new AesKwProvider("kms/zero");
    KeyProvider provider =
        new KeyProvider() {
          @Override
          public boolean recognizes(String keyId) {
            return inner.recognizes(keyId);
          }

          @Override
          public WrappedKey wrap(String keyId, byte[] dataKey) throws Exception {
            wrapInput.set(dataKey);
            return inner.wrap(keyId, dataKey);
          }

          @Override
          public byte[] unwrap(String keyId, long keyVersion, byte[] wrappedKey)
              throws Exception {
            byte[] key = inner.unwrap(keyId, keyVersion, wrappedKey);
            returned.set(key);
            return key;
          }
        };
    byte[] envelope;
    try (MqsealCipher producer = cipherWith(provider, "kms/zero")) {
      envelope = producer.encrypt(new byte[] {9});
    }
    try (MqsealCipher consumer = cipherWith(provider, "kms/zero")) {
      consumer.decryptBody(envelope, null);
    }
    assertEquals(32, wrapInput.get().length);
    assertArrayEquals(new byte[32], wrapInput.get(), "data key wrapInput to wrap is zeroed");
    assertArrayEquals(new byte[32], returned.get(), "data key returned by unwrap is zeroed");
  }

  /** Encrypts with a healthy provider, then decrypts with a fresh cipher whose unwrap fails. */
  private static MqsealException decryptFailure(HookedProvider.Hook hook) {
    HookedProvider provider = new HookedProvider("kms/fail");
    byte[] envelope;
    try (MqsealCipher producer = cipherWith(provider, "kms/fail")) {
      envelope = producer.encrypt("secret".getBytes(StandardCharsets.UTF_8));
    }
    provider.unwrapHook = hook;
    try (MqsealCipher consumer = cipherWith(provider, "kms/fail")) {
      return assertThrows(MqsealException.class, () -> consumer.decryptBody(envelope, null));
    }
  }

  @Test
  void unavailableProviderIsRetryable() {
    ProviderUnavailableException thrown = new ProviderUnavailableException("KMS is down");
    MqsealException e =
        decryptFailure(
            key -> {
              throw thrown;
            });
    assertTrue(e instanceof ProviderUnavailableException, e.toString());
    assertEquals(ErrorCodes.PROVIDER_UNAVAILABLE, e.code());
    assertTrue(e.isRetryable());
    assertSame(thrown, e.getCause());
    assertTrue(e.getMessage().contains("HookedProvider.unwrap"), e.getMessage());
  }

  @Test
  void throttledCodeIsKept() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new ProviderUnavailableException(ErrorCodes.PROVIDER_THROTTLED, "slow down");
            });
    assertEquals(ErrorCodes.PROVIDER_THROTTLED, e.code());
    assertTrue(e.isRetryable());
  }

  @Test
  void deniedProviderIsPermanent() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new ProviderDeniedException("access denied by key policy");
            });
    assertTrue(e instanceof ProviderDeniedException, e.toString());
    assertEquals(ErrorCodes.PROVIDER_DENIED, e.code());
    assertFalse(e.isRetryable());
    assertTrue(e.getCause() instanceof ProviderDeniedException);
  }

  @Test
  void keyNotFoundFromProviderKeepsCode() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new KeyNotFoundException("key was deleted");
            });
    assertTrue(e instanceof KeyNotFoundException, e.toString());
    assertEquals(ErrorCodes.KEY_NOT_FOUND, e.code());
  }

  @Test
  void ioExceptionIsRetryableUnavailable() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new IOException("connection reset");
            });
    assertEquals(ErrorCodes.PROVIDER_UNAVAILABLE, e.code());
    assertTrue(e.isRetryable());
    assertTrue(e.getCause() instanceof IOException);
  }

  @Test
  void socketTimeoutIsRetryableTimeout() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new SocketTimeoutException("read timed out");
            });
    assertEquals(ErrorCodes.PROVIDER_TIMEOUT, e.code());
    assertTrue(e.isRetryable());
  }

  @Test
  void unexpectedExceptionIsPermanentDenied() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new IllegalStateException("bug in the KMS client");
            });
    assertEquals(ErrorCodes.PROVIDER_DENIED, e.code());
    assertFalse(e.isRetryable());
    assertTrue(e.getCause() instanceof IllegalStateException);
    assertTrue(e.getMessage().contains("IllegalStateException"), e.getMessage());
    assertFalse(e.getMessage().contains("bug in the KMS client"), e.getMessage());
  }

  @Test
  void foreignMqsealCodeBecomesDenied() {
    MqsealException e =
        decryptFailure(
            key -> {
              throw new AuthenticationFailedException(ErrorCodes.AUTHENTICATION_FAILED, "x");
            });
    assertEquals(ErrorCodes.PROVIDER_DENIED, e.code());
  }

  @Test
  void wrongLengthKeyIsInvalidResponse() {
    MqsealException e = decryptFailure(key -> new byte[16]);
    assertEquals(ErrorCodes.PROVIDER_INVALID_RESPONSE, e.code());
    assertFalse(e.isRetryable());
    assertTrue(e.getMessage().contains("32 bytes"), e.getMessage());
    assertTrue(e.getMessage().contains("16 bytes"), e.getMessage());
  }

  @Test
  void nullKeyIsInvalidResponse() {
    MqsealException e = decryptFailure(key -> null);
    assertEquals(ErrorCodes.PROVIDER_INVALID_RESPONSE, e.code());
    assertTrue(e.getMessage().contains("null"), e.getMessage());
  }

  @Test
  void flippedKeyFailsCommitment() {
    MqsealException e =
        decryptFailure(
            key -> {
              key[0] ^= 1;
              return key;
            });
    assertEquals(ErrorCodes.KEY_COMMITMENT_MISMATCH, e.code());
  }

  @Test
  void badWrapResultsAreInvalidResponses() {
    KeyProvider badVersion =
        new AesKwProvider("kms/v") {
          @Override
          public WrappedKey wrap(String id, byte[] dataKey) {
            return new WrappedKey(-5, new byte[40]);
          }
        };
    try (MqsealCipher cipher = cipherWith(badVersion, "kms/v")) {
      MqsealException e = assertThrows(MqsealException.class, () -> cipher.encrypt(new byte[1]));
      assertEquals(ErrorCodes.PROVIDER_INVALID_RESPONSE, e.code());
      assertTrue(e.getMessage().contains("-5"), e.getMessage());
    }
    KeyProvider empty =
        new AesKwProvider("kms/e") {
          @Override
          public WrappedKey wrap(String id, byte[] dataKey) {
            return new WrappedKey(1, new byte[0]);
          }
        };
    try (MqsealCipher cipher = cipherWith(empty, "kms/e")) {
      MqsealException e = assertThrows(MqsealException.class, () -> cipher.encrypt(new byte[1]));
      assertEquals(ErrorCodes.PROVIDER_INVALID_RESPONSE, e.code());
    }
    KeyProvider nothing =
        new AesKwProvider("kms/n") {
          @Override
          public WrappedKey wrap(String id, byte[] dataKey) {
            return null;
          }
        };
    try (MqsealCipher cipher = cipherWith(nothing, "kms/n")) {
      MqsealException e = assertThrows(MqsealException.class, () -> cipher.encrypt(new byte[1]));
      assertEquals(ErrorCodes.PROVIDER_INVALID_RESPONSE, e.code());
    }
  }

  @Test
  void throwingRecognizesMeansUnknownKey() {
    KeyProvider provider =
        new AesKwProvider("kms/r") {
          @Override
          public boolean recognizes(String id) {
            throw new IllegalStateException("broken");
          }
        };
    InvalidArgumentException e =
        assertThrows(InvalidArgumentException.class, () -> cipherWith(provider, "kms/r"));
    assertEquals(ErrorCodes.INVALID_CONFIG, e.code());
  }

  @Test
  void nullProviderIsRejected() {
    assertThrows(
        InvalidArgumentException.class, () -> MqsealCipher.builder().keyProvider(null));
    assertThrows(
        InvalidArgumentException.class, () -> MqsealCipher.fromConfig("key_id = x", null));
    InvalidArgumentException e =
        assertThrows(InvalidArgumentException.class, () -> MqsealCipher.builder().build());
    assertEquals(ErrorCodes.INVALID_CONFIG, e.code());
  }

  /** Heap buffers of a provider-backed cipher are copied, not pinned; check both directions. */
  @Test
  void heapAndDirectBuffersWorkWithProvider() {
    AesKwProvider provider = new AesKwProvider("kms/buf");
    byte[] body = new byte[20_000];
    RANDOM.nextBytes(body);
    try (MqsealCipher producer = cipherWith(provider, "kms/buf");
        MqsealCipher consumer = cipherWith(provider, "kms/buf")) {
      for (boolean direct : new boolean[] {false, true}) {
        ByteBuffer in = direct ? ByteBuffer.allocateDirect(body.length) : ByteBuffer.allocate(body.length);
        in.put(body).flip();
        int size = producer.encryptedLength(body.length, null);
        ByteBuffer sealed = direct ? ByteBuffer.allocateDirect(size + 8) : ByteBuffer.allocate(size + 8);
        sealed.position(4);
        int written = producer.encrypt(in, sealed, null);
        sealed.flip().position(4);
        ByteBuffer out = direct ? ByteBuffer.allocateDirect(body.length) : ByteBuffer.allocate(body.length);
        consumer.rotate();
        assertEquals(body.length, consumer.decrypt(sealed, out, null));
        byte[] roundTripped = new byte[body.length];
        out.flip().get(roundTripped);
        assertArrayEquals(body, roundTripped, "direct=" + direct + " written=" + written);
      }
    }
  }

  /** Eight threads share a one-entry cache and two-message data keys over a Java provider. */
  @Test
  void manyThreadsShareProvider() throws Exception {
    AesKwProvider provider = new AesKwProvider("kms/mt");
    int threads = 8;
    int messages = 300;
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyProvider(provider)
            .keyIds("kms/mt")
            .cacheCapacity(1)
            .maxMessagesPerKey(2)
            .build()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  List<byte[]> envelopes = new ArrayList<>();
                  int checked = 0;
                  for (int i = 0; i < messages; i++) {
                    byte[] body = ("t" + thread + " m" + i).getBytes(StandardCharsets.UTF_8);
                    byte[] envelope = cipher.encrypt(body);
                    envelopes.add(envelope);
                    assertArrayEquals(body, cipher.decryptBody(envelope, null));
                    checked++;
                  }
                  for (int i = 0; i < messages; i += 5) {
                    byte[] body = ("t" + thread + " m" + i).getBytes(StandardCharsets.UTF_8);
                    assertArrayEquals(body, cipher.decryptBody(envelopes.get(i), null));
                    checked++;
                  }
                  return checked;
                }));
      }
      int total = 0;
      for (Future<Integer> result : results) {
        total += result.get(300, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertEquals(threads * (messages + messages / 5), total);
      assertTrue(provider.wraps.get() >= threads * messages / 2, "wraps " + provider.wraps.get());
      assertTrue(provider.unwraps.get() > 0, "old envelopes needed unwraps");
      assertEquals(0, cipher.counters().decryptFailures());
    }
  }

  /** close() during a callback returns at once; the call finishes and then the handle goes. */
  @Test
  void closeWhileCallbackRuns() throws Exception {
    long[] before = TestKeyring.live();
    CountDownLatch entered = new CountDownLatch(1);
    CountDownLatch proceed = new CountDownLatch(1);
    HookedProvider provider = new HookedProvider("kms/close");
    byte[] body = "closing".getBytes(StandardCharsets.UTF_8);
    byte[] envelope;
    try (MqsealCipher producer = cipherWith(provider, "kms/close")) {
      envelope = producer.encrypt(body);
    }
    provider.unwrapHook =
        key -> {
          entered.countDown();
          assertTrue(proceed.await(60, TimeUnit.SECONDS));
          return key;
        };
    MqsealCipher consumer = cipherWith(provider, "kms/close");
    ExecutorService pool = Executors.newSingleThreadExecutor();
    Future<byte[]> decrypted = pool.submit(() -> consumer.decryptBody(envelope, null));
    assertTrue(entered.await(60, TimeUnit.SECONDS));
    consumer.close();
    assertThrows(HandleClosedException.class, () -> consumer.decryptBody(envelope, null));
    proceed.countDown();
    assertArrayEquals(body, decrypted.get(60, TimeUnit.SECONDS));
    pool.shutdown();
    TestKeyring.assertNoLeak(before);
  }

  @Test
  void resultObjectsHideKeys() {
    byte[] key = new byte[32];
    Arrays.fill(key, (byte) 0x5a);
    KeyProvider.GeneratedKey generated = new KeyProvider.GeneratedKey(3, key, new byte[40]);
    assertFalse(generated.toString().contains("90"), generated.toString());
    assertFalse(generated.toString().toLowerCase().contains("5a"), generated.toString());
    generated.destroy();
    assertArrayEquals(new byte[32], key);
    assertEquals(
        "WrappedKey{keyVersion=3, wrappedKeyLength=40}",
        new KeyProvider.WrappedKey(3, new byte[40]).toString());
  }
}
