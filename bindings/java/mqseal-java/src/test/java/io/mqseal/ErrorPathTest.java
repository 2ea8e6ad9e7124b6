package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.api.io.TempDir;

/**
 * Produces every error code of the core through a real failure where one exists, and through
 * the test-only {@code debugThrow} entry point for the rest, and checks that each reaches Java
 * as its class, with its code and retryability, and that no native handle leaks.
 */
class ErrorPathTest {
  @TempDir Path dir;

  /** A provider whose unwrap throws a chosen mqseal exception. */
  private static KeyProviderTest.HookedProvider throwing(MqsealException thrown) {
    KeyProviderTest.HookedProvider provider = new KeyProviderTest.HookedProvider("kms/e");
    provider.unwrapHook =
        key -> {
          throw thrown;
        };
    return provider;
  }

  /** Encrypts with a healthy provider and decrypts with one whose unwrap throws {@code code}. */
  private static void providerFailure(int code) {
    KeyProviderTest.HookedProvider provider = new KeyProviderTest.HookedProvider("kms/e");
    byte[] envelope;
    try (MqsealCipher producer = KeyProviderTest.cipherWith(provider, "kms/e")) {
      envelope = producer.encrypt(new byte[] {1});
    }
    MqsealException thrown = ErrorCodes.exceptionFor(code, "provider test failure", -1);
    provider.unwrapHook = throwing(thrown).unwrapHook;
    try (MqsealCipher consumer = KeyProviderTest.cipherWith(provider, "kms/e")) {
      consumer.decryptBody(envelope, null);
    } catch (MqsealException e) {
      assertSame(thrown, e.getCause(), "code " + code);
      throw e;
    }
  }

  private Map<Integer, Executable> realFailures() throws Exception {
    Path keyring = TestKeyring.create(dir, "k");
    MqsealCipher cipher = MqsealCipher.builder().keyringPath(keyring).keyIds("k").build();
    byte[] envelope = cipher.encrypt("body".getBytes(StandardCharsets.UTF_8));
    Path versionTwo = dir.resolve("version-two");
    TestKeyring.write(
        versionTwo, "mqseal-keyring 1\nkey k 2 " + "cd".repeat(32) + "\nprimary k 2\n");
    Map<Integer, Executable> cases = new LinkedHashMap<>();
    cases.put(ErrorCodes.INVALID_ARGUMENT, () -> cipher.encrypt(new byte[1], Map.of("", "x")));
    cases.put(ErrorCodes.NULL_ARGUMENT, () -> cipher.encrypt((byte[]) null));
    cases.put(
        ErrorCodes.BUFFER_TOO_SMALL,
        () -> cipher.encrypt(ByteBuffer.allocate(10), ByteBuffer.allocateDirect(10), null));
    cases.put(ErrorCodes.INVALID_CONFIG, () -> MqsealCipher.fromConfig("no_such_setting = 1"));
    cases.put(
        ErrorCodes.HANDLE_CLOSED,
        () -> {
          MqsealCipher closed = MqsealCipher.builder().keyringPath(keyring).build();
          closed.close();
          closed.decryptBody(envelope, null);
        });
    cases.put(ErrorCodes.MALFORMED_ENVELOPE, () -> cipher.decryptBody(patch(envelope, 4, 0), null));
    cases.put(
        ErrorCodes.TRUNCATED_ENVELOPE,
        () -> cipher.decryptBody(Arrays.copyOf(envelope, 8), null));
    cases.put(ErrorCodes.NOT_ENCRYPTED, () -> cipher.decryptBody("{}".getBytes(), null));
    cases.put(
        ErrorCodes.UNSUPPORTED_VERSION, () -> cipher.decryptBody(patch(envelope, 1, 2), null));
    cases.put(ErrorCodes.UNSUPPORTED_SUITE, () -> cipher.decryptBody(patch(envelope, 2, 9), null));
    cases.put(
        ErrorCodes.UNSUPPORTED_FEATURE, () -> cipher.decryptBody(patch(envelope, 3, 8), null));
    cases.put(
        ErrorCodes.AUTHENTICATION_FAILED,
        () -> cipher.decryptBody(envelope, Map.of("topic", "other")));
    cases.put(
        ErrorCodes.KEY_COMMITMENT_MISMATCH,
        () -> {
          KeyProviderTest.HookedProvider provider = new KeyProviderTest.HookedProvider("kms/c");
          byte[] sealed;
          try (MqsealCipher producer = KeyProviderTest.cipherWith(provider, "kms/c")) {
            sealed = producer.encrypt(new byte[] {1});
          }
          provider.unwrapHook =
              key -> {
                key[31] ^= 1;
                return key;
              };
          try (MqsealCipher consumer = KeyProviderTest.cipherWith(provider, "kms/c")) {
            consumer.decryptBody(sealed, null);
          }
        });
    cases.put(
        ErrorCodes.KEY_NOT_FOUND,
        () -> {
          try (MqsealCipher unknown =
              MqsealCipher.builder().keyringPath(keyring).keyIds("missing").build()) {
            unknown.encrypt(new byte[1]);
          }
        });
    cases.put(
        ErrorCodes.KEY_VERSION_NOT_FOUND,
        () -> {
          try (MqsealCipher rotated = MqsealCipher.builder().keyringPath(versionTwo).build()) {
            rotated.decryptBody(envelope, null);
          }
        });
    for (int code :
        new int[] {
          ErrorCodes.PROVIDER_UNAVAILABLE,
          ErrorCodes.PROVIDER_THROTTLED,
          ErrorCodes.PROVIDER_TIMEOUT,
          ErrorCodes.PROVIDER_DENIED,
          ErrorCodes.KEY_DISABLED
        }) {
      cases.put(code, () -> providerFailure(code));
    }
    cases.put(
        ErrorCodes.PROVIDER_INVALID_RESPONSE,
        () -> {
          KeyProviderTest.HookedProvider provider = new KeyProviderTest.HookedProvider("kms/i");
          byte[] sealed;
          try (MqsealCipher producer = KeyProviderTest.cipherWith(provider, "kms/i")) {
            sealed = producer.encrypt(new byte[] {1});
          }
          provider.unwrapHook = key -> Arrays.copyOf(key, 31);
          try (MqsealCipher consumer = KeyProviderTest.cipherWith(provider, "kms/i")) {
            consumer.decryptBody(sealed, null);
          }
        });
    cases.put(
        ErrorCodes.USAGE_LIMIT_EXCEEDED,
        () -> {
          try (MqsealCipher tiny =
              MqsealCipher.builder().keyringPath(keyring).keyIds("k").maxBodyLength(4).build()) {
            tiny.encrypt(new byte[5]);
          }
        });
    cases.put(ErrorCodes.PANIC, MqsealCipher::debugForcePanic);
    closeAfter.add(cipher);
    return cases;
  }

  private final Set<MqsealCipher> closeAfter = new HashSet<>();

  private static byte[] patch(byte[] envelope, int offset, int value) {
    byte[] copy = envelope.clone();
    copy[offset] = (byte) value;
    return copy;
  }

  @Test
  void everyCodeReachesJavaForReal() throws Throwable {
    long[] before = MqsealNative.debugLiveObjects();
    Map<Integer, Executable> cases = realFailures();
    Set<Integer> covered = new HashSet<>();
    for (Map.Entry<Integer, Executable> c : cases.entrySet()) {
      int code = c.getKey();
      MqsealException e = assertThrows(MqsealException.class, c.getValue(), "code " + code);
      assertEquals(code, e.code(), "code " + code + ": " + e);
      assertSame(
          ErrorCodes.exceptionFor(code, "", -1).getClass(), e.getClass(), "class of " + code);
      assertEquals(ErrorCodes.isRetryable(code), e.isRetryable(), "retryable " + code);
      assertEquals(MqsealNative.errorCodeRetryable(code), e.isRetryable(), "native " + code);
      assertEquals(MqsealNative.errorCodeName(code), e.codeName());
      assertTrue(!e.getMessage().isEmpty(), "message of " + code);
      if (e instanceof BufferTooSmallException) {
        assertTrue(((BufferTooSmallException) e).requiredSize() > 10);
      }
      covered.add(code);
    }
    // The rest come through the test-only entry point.
    for (int code : MqsealNative.errorCodes()) {
      if (covered.contains(code)) {
        continue;
      }
      MqsealException e =
          assertThrows(MqsealException.class, () -> MqsealNative.debugThrow(code, 64));
      assertEquals(code, e.code());
      assertSame(ErrorCodes.exceptionFor(code, "", -1).getClass(), e.getClass());
      assertEquals(MqsealNative.errorCodeRetryable(code), e.isRetryable());
      covered.add(code);
    }
    assertEquals(MqsealNative.errorCodes().length, covered.size());
    assertTrue(covered.size() - cases.size() <= 1, "only internal (900) lacks a real trigger");
    for (MqsealCipher cipher : closeAfter) {
      cipher.close();
    }
    TestKeyring.assertNoLeak(before);
    // The library still works after every failure.
    Files.createDirectories(dir.resolve("again"));
    try (MqsealCipher cipher = TestKeyring.cipher(dir.resolve("again"), "k")) {
      assertArrayEquals(new byte[] {3}, cipher.decryptBody(cipher.encrypt(new byte[] {3}), null));
    }
  }
}
