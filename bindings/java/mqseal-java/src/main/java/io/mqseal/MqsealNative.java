package io.mqseal;

import java.nio.ByteBuffer;

/**
 * Declarations of the native methods implemented by the Rust crate mqseal-jni. Loading this
 * class loads the native library.
 *
 * <p>Callers validate every argument first: offsets and lengths within bounds, exactly one of
 * array and direct buffer per region, handles acquired from a {@link NativeHandle}. Context and
 * sealed properties are passed in the canonical encoding of {@link Attributes}, null for none.
 */
final class MqsealNative {
  static {
    NativeLoader.load();
    NativeLoader.checkVersion(nativeVersion());
  }

  private MqsealNative() {}

  static native String nativeVersion();

  static native long cipherNew(
      String keyringPath,
      KeyProvider[] keyProviders,
      String[] keyIds,
      String suite,
      String backend,
      long maxMessages,
      long maxBytes,
      long maxAgeMillis,
      int cacheCapacity,
      long cacheTtlMillis,
      int compression,
      int compressionMinSize,
      int maxBodyLength,
      int storeContext);

  static native long cipherFromConfig(String text, KeyProvider provider);

  static native void cipherFree(long handle);

  static native byte[] encrypt(
      long handle, byte[] body, int offset, int length, byte[] context, byte[] properties);

  static native int encryptInto(
      long handle,
      byte[] inArray,
      ByteBuffer inBuffer,
      int inOffset,
      int inLength,
      byte[] outArray,
      ByteBuffer outBuffer,
      int outOffset,
      int outLength,
      byte[] context);

  static native int encryptedLength(long handle, int bodyLength, byte[] context);

  static native Decrypted decrypt(
      long handle, byte[] envelope, int offset, int length, byte[] context);

  static native byte[] decryptBody(
      long handle, byte[] envelope, int offset, int length, byte[] context);

  static native int decryptInto(
      long handle,
      byte[] inArray,
      ByteBuffer inBuffer,
      int inOffset,
      int inLength,
      byte[] outArray,
      ByteBuffer outBuffer,
      int outOffset,
      int outLength,
      byte[] context);

  static native byte[] rewrap(long handle, byte[] envelope);

  static native void rotate(long handle);

  static native long[] counters(long handle);

  static native EnvelopeInfo inspect(byte[] envelope);

  static native boolean looksEncrypted(byte[] body);

  static native long keyringGenerate(String path, String name);

  static native long keyringRotate(String path, String name);

  // Tables and hooks that tests use to check this binding against the core.

  static native int[] errorCodes();

  static native String errorCodeName(int code);

  static native boolean errorCodeRetryable(int code);

  static native void debugThrow(int code, long requiredSize);

  static native void debugForcePanic();

  /** Returns the numbers of live cipher handles and live Java key providers, in that order. */
  static native long[] debugLiveObjects();

  static native long debugKnownAnswerCipher(
      String config, byte[] dek, byte[] wrapped, long keyVersion);

  static native String[] propertyConstants();

  static native String[] propertyTable();

  static native byte[] encodeAttributes(String[] pairs);
}
