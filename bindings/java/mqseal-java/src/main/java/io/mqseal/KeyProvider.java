package io.mqseal;

import java.util.Arrays;

/**
 * A key provider implemented by the application, for example around a KMS client it already
 * has. Pass it to {@link MqsealCipher.Builder#keyProvider(KeyProvider)} or {@link
 * MqsealCipher#fromConfig(String, KeyProvider)}; the native library then calls it to wrap new
 * data keys and to unwrap the data keys of envelopes it decrypts.
 *
 * <p>Implementations must be thread-safe: one provider serves every thread that uses the
 * cipher. Calls run on the thread of the cipher operation that needs them (a producer's first
 * message under a new data key, a consumer's first message under an uncached data key), and
 * must not call the same cipher again.
 *
 * <p>Failures: throw {@link ProviderUnavailableException} (codes 600 to 602) when a retry may
 * succeed, {@link ProviderDeniedException} (700 to 702) or {@link KeyNotFoundException} (500,
 * 501) when it will not. The exception reaches the caller of the cipher as the cause of an
 * exception with the same code. Other exceptions map as follows: {@code
 * java.util.concurrent.TimeoutException} and {@code java.net.SocketTimeoutException} to
 * provider_timeout (602, retryable), any other {@code java.io.IOException} to
 * provider_unavailable (600, retryable), and everything else, including an {@link
 * MqsealException} with a code outside 500 to 799, to provider_denied (700, permanent).
 *
 * <p>Key hygiene: the data key passed to {@link #wrap} is overwritten with zeros when the call
 * returns, and so are the plaintext keys returned by {@link #unwrap} and {@link
 * #generateDataKey} once they are read, so return a fresh array each time. Copies made by the
 * implementation, its KMS client or a moving garbage collector are beyond mqseal's reach.
 */
public interface KeyProvider {
  /**
   * Returns true when this provider may hold {@code keyId}. An envelope's wrapped keys are
   * offered only to providers that recognize their key id. An exception counts as false.
   */
  boolean recognizes(String keyId);

  /**
   * Wraps a 32-byte data key under the primary version of {@code keyId}.
   *
   * @param keyId the key id configured with {@link MqsealCipher.Builder#keyIds}
   * @param dataKey the plaintext data key; zeroed when this method returns
   * @return the key version used and the wrapped key
   */
  WrappedKey wrap(String keyId, byte[] dataKey) throws Exception;

  /**
   * Unwraps a data key.
   *
   * @param keyId the key id stored in the envelope
   * @param keyVersion the key version stored in the envelope, from 0 to 4294967295
   * @param wrappedKey the wrapped key stored in the envelope
   * @return the 32-byte plaintext data key; zeroed once read
   */
  byte[] unwrap(String keyId, long keyVersion, byte[] wrappedKey) throws Exception;

  /**
   * Generates a data key and wraps it, as a KMS's GenerateDataKey does. The default returns
   * null, and the library then generates a random data key and calls {@link #wrap}.
   */
  default GeneratedKey generateDataKey(String keyId) throws Exception {
    return null;
  }

  /**
   * Returns the current primary version of {@code keyId}, or -1 when the provider has no
   * versions (the default).
   */
  default long primaryVersion(String keyId) throws Exception {
    return -1;
  }

  /** A wrapped data key and the version of the key that wrapped it. */
  final class WrappedKey {
    private final long keyVersion;
    private final byte[] wrappedKey;

    /**
     * Creates the result of a wrap.
     *
     * @param keyVersion the key version, from 0 to 4294967295
     * @param wrappedKey the wrapped data key, not empty
     */
    public WrappedKey(long keyVersion, byte[] wrappedKey) {
      if (wrappedKey == null) {
        throw ErrorCodes.nullArgument("wrappedKey");
      }
      this.keyVersion = keyVersion;
      this.wrappedKey = wrappedKey.clone();
    }

    /** Returns the version of the key that wrapped the data key. */
    public long keyVersion() {
      return keyVersion;
    }

    /** Returns the wrapped data key. */
    public byte[] wrappedKey() {
      return wrappedKey.clone();
    }

    @Override
    public String toString() {
      return "WrappedKey{keyVersion=" + keyVersion + ", wrappedKeyLength=" + wrappedKey.length
          + "}";
    }
  }

  /**
   * A generated data key: the plaintext key and its wrapped form. The plaintext is zeroed by
   * the library once read; {@link #destroy()} zeroes it earlier.
   */
  final class GeneratedKey {
    private final long keyVersion;
    private final byte[] plaintextKey;
    private final byte[] wrappedKey;

    /**
     * Creates the result of a data key generation. Takes ownership of {@code plaintextKey}
     * without copying it, so that zeroing reaches the only copy.
     *
     * @param keyVersion the key version, from 0 to 4294967295
     * @param plaintextKey the 32-byte data key
     * @param wrappedKey the wrapped data key, not empty
     */
    public GeneratedKey(long keyVersion, byte[] plaintextKey, byte[] wrappedKey) {
      if (plaintextKey == null) {
        throw ErrorCodes.nullArgument("plaintextKey");
      }
      if (wrappedKey == null) {
        throw ErrorCodes.nullArgument("wrappedKey");
      }
      this.keyVersion = keyVersion;
      this.plaintextKey = plaintextKey;
      this.wrappedKey = wrappedKey.clone();
    }

    /** Returns the version of the key that wrapped the data key. */
    public long keyVersion() {
      return keyVersion;
    }

    /** Returns the plaintext data key itself, not a copy. */
    public byte[] plaintextKey() {
      return plaintextKey;
    }

    /** Returns the wrapped data key. */
    public byte[] wrappedKey() {
      return wrappedKey.clone();
    }

    /** Overwrites the plaintext data key with zeros. */
    public void destroy() {
      Arrays.fill(plaintextKey, (byte) 0);
    }

    @Override
    public String toString() {
      return "GeneratedKey{keyVersion=" + keyVersion + ", wrappedKeyLength=" + wrappedKey.length
          + "}";
    }
  }
}
