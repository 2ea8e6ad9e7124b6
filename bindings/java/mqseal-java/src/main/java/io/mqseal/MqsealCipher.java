package io.mqseal;

import java.io.IOException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.ReadOnlyBufferException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * Encrypts and decrypts RocketMQ message bodies into self-describing mqseal envelopes.
 *
 * <p>A cipher wraps a native cipher: a random data key encrypts bodies, and a key provider's
 * key-encryption key wraps the data key into each envelope header. Instances are thread-safe and
 * meant to be shared: the producer data key and the consumer key cache live in the instance.
 *
 * <p>The optional <em>context</em> (for example {@code topic=orders}) is authenticated but not
 * encrypted: decryption must pass the same context, or it fails with {@link
 * AuthenticationFailedException}. <em>Sealed properties</em> travel encrypted inside the envelope
 * and come back from {@link #decrypt(byte[], Map)}.
 *
 * <p>Call {@link #close()} when done. A cipher that becomes unreachable without being closed is
 * freed by a {@link Cleaner}, later and at an unpredictable time.
 */
public final class MqsealCipher implements AutoCloseable {
  private static final Cleaner CLEANER = Cleaner.create();

  private final NativeHandle handle;
  private final Cleaner.Cleanable cleanable;

  private MqsealCipher(long pointer) {
    NativeHandle created = new NativeHandle(pointer, MqsealNative::cipherFree);
    this.handle = created;
    // The cleaning action must not capture `this`, or the cipher would never become unreachable.
    this.cleanable = CLEANER.register(this, created::close);
  }

  /** Returns a builder for a cipher backed by a local keyring file or key providers. */
  public static Builder builder() {
    return new Builder();
  }

  /**
   * Creates a cipher from a configuration file in the core's {@code key = value} format. Keys may
   * carry a {@code mqseal.} prefix, so the lines can live in a Java {@code .properties} file;
   * {@code .properties} escapes are not interpreted. A relative {@code keyring.path} is resolved
   * against the working directory.
   *
   * @throws InvalidArgumentException (code 103) when the file cannot be read or is invalid
   */
  public static MqsealCipher fromConfigFile(Path file) {
    if (file == null) {
      throw ErrorCodes.nullArgument("configuration file");
    }
    String text;
    try {
      text = Files.readString(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw ErrorCodes.invalidConfig(
          "failed to read configuration file " + file.toAbsolutePath() + ": " + e
              + "; check the path and its permissions");
    }
    return fromConfig(text);
  }

  /**
   * Creates a cipher from configuration text in the core's {@code key = value} format, for
   * example {@code keyring.path = /etc/mqseal/keyring} and {@code key_id = orders}.
   *
   * @throws InvalidArgumentException (code 103) when a setting is unknown or invalid
   */
  public static MqsealCipher fromConfig(String text) {
    if (text == null) {
      throw ErrorCodes.nullArgument("configuration text");
    }
    return new MqsealCipher(MqsealNative.cipherFromConfig(text, null));
  }

  /**
   * Creates a cipher from configuration text that uses {@code provider} as its only key provider,
   * in place of the provider the text selects. Use {@code provider = callback} in the text to
   * say so.
   *
   * @throws InvalidArgumentException (code 103) when a setting is unknown or invalid
   */
  public static MqsealCipher fromConfig(String text, KeyProvider provider) {
    if (text == null) {
      throw ErrorCodes.nullArgument("configuration text");
    }
    if (provider == null) {
      throw ErrorCodes.nullArgument("provider");
    }
    return new MqsealCipher(MqsealNative.cipherFromConfig(text, provider));
  }

  /** Encrypts {@code body} with no context and no sealed properties. */
  public byte[] encrypt(byte[] body) {
    return encrypt(body, null, null);
  }

  /** Encrypts {@code body} bound to {@code context}, which decryption must pass again. */
  public byte[] encrypt(byte[] body, Map<String, String> context) {
    return encrypt(body, context, null);
  }

  /**
   * Encrypts {@code body} bound to {@code context}, sealing {@code sealedProperties} inside the
   * envelope.
   *
   * @param body the plaintext, possibly empty
   * @param context authenticated context, or null for none
   * @param sealedProperties properties to encrypt with the body, or null for none
   * @return a new envelope
   */
  public byte[] encrypt(
      byte[] body, Map<String, String> context, Map<String, String> sealedProperties) {
    if (body == null) {
      throw ErrorCodes.nullArgument("body");
    }
    byte[] encodedContext = Attributes.encode(context, "context");
    byte[] encodedProperties = Attributes.encode(sealedProperties, "sealed properties");
    long pointer = handle.acquire();
    try {
      return MqsealNative.encrypt(
          pointer, body, 0, body.length, encodedContext, encodedProperties);
    } finally {
      handle.release();
    }
  }

  /**
   * Encrypts the remaining bytes of {@code body} into {@code out}. Either buffer may be heap or
   * direct; direct buffers are read and written in place. On success both positions advance past
   * the bytes read and written. On failure neither position changes; when {@code out} is too
   * small, {@link BufferTooSmallException#requiredSize()} gives the size it needs.
   *
   * @return the number of bytes written to {@code out}
   */
  public int encrypt(ByteBuffer body, ByteBuffer out, Map<String, String> context) {
    Region input = Region.input(body, "body");
    Region output = Region.output(out, "out");
    byte[] encodedContext = Attributes.encode(context, "context");
    int written;
    long pointer = handle.acquire();
    try {
      written =
          MqsealNative.encryptInto(
              pointer,
              input.array,
              input.direct,
              input.offset,
              input.length,
              output.array,
              output.direct,
              output.offset,
              output.length,
              encodedContext);
    } finally {
      handle.release();
    }
    body.position(body.position() + input.length);
    out.position(out.position() + written);
    return written;
  }

  /**
   * Returns the exact envelope length for a body of {@code bodyLength} bytes with this context,
   * no sealed properties and no compression, under the current data key. Use it to size the
   * output of {@link #encrypt(ByteBuffer, ByteBuffer, Map)}.
   */
  public int encryptedLength(int bodyLength, Map<String, String> context) {
    if (bodyLength < 0) {
      throw ErrorCodes.invalidArgument("bodyLength is " + bodyLength + "; it must not be negative");
    }
    byte[] encodedContext = Attributes.encode(context, "context");
    long pointer = handle.acquire();
    try {
      return MqsealNative.encryptedLength(pointer, bodyLength, encodedContext);
    } finally {
      handle.release();
    }
  }

  /**
   * Decrypts an envelope and returns the body with its sealed properties and header facts.
   *
   * @param context the context given to encryption, or null; when the envelope stores its
   *     context, null or empty uses the stored one
   * @throws AuthenticationFailedException when the envelope was modified or the context differs
   * @throws NotEncryptedException when {@code envelope} is not an mqseal envelope
   */
  public Decrypted decrypt(byte[] envelope, Map<String, String> context) {
    if (envelope == null) {
      throw ErrorCodes.nullArgument("envelope");
    }
    byte[] encodedContext = Attributes.encode(context, "context");
    long pointer = handle.acquire();
    try {
      return MqsealNative.decrypt(pointer, envelope, 0, envelope.length, encodedContext);
    } finally {
      handle.release();
    }
  }

  /** Decrypts an envelope and returns only the body; faster than {@link #decrypt}. */
  public byte[] decryptBody(byte[] envelope, Map<String, String> context) {
    if (envelope == null) {
      throw ErrorCodes.nullArgument("envelope");
    }
    byte[] encodedContext = Attributes.encode(context, "context");
    long pointer = handle.acquire();
    try {
      return MqsealNative.decryptBody(pointer, envelope, 0, envelope.length, encodedContext);
    } finally {
      handle.release();
    }
  }

  /**
   * Decrypts the remaining bytes of {@code envelope} into {@code out}, with the buffer rules of
   * {@link #encrypt(ByteBuffer, ByteBuffer, Map)}. Sealed properties are checked but not
   * returned; use {@link #decrypt(byte[], Map)} to read them. On failure no plaintext is left in
   * {@code out}.
   *
   * @return the number of body bytes written to {@code out}
   */
  public int decrypt(ByteBuffer envelope, ByteBuffer out, Map<String, String> context) {
    Region input = Region.input(envelope, "envelope");
    Region output = Region.output(out, "out");
    byte[] encodedContext = Attributes.encode(context, "context");
    int written;
    long pointer = handle.acquire();
    try {
      written =
          MqsealNative.decryptInto(
              pointer,
              input.array,
              input.direct,
              input.offset,
              input.length,
              output.array,
              output.direct,
              output.offset,
              output.length,
              encodedContext);
    } finally {
      handle.release();
    }
    envelope.position(envelope.position() + input.length);
    out.position(out.position() + written);
    return written;
  }

  /**
   * Re-wraps the data key of an envelope under the current primary version of every configured
   * key id, without decrypting the body. The result decrypts exactly as the original.
   */
  public byte[] rewrap(byte[] envelope) {
    if (envelope == null) {
      throw ErrorCodes.nullArgument("envelope");
    }
    long pointer = handle.acquire();
    try {
      return MqsealNative.rewrap(pointer, envelope);
    } finally {
      handle.release();
    }
  }

  /**
   * Drops the producer's data key, so the next message gets a new data key wrapped under the
   * current primary key version. Cached consumer keys are kept.
   */
  public void rotate() {
    long pointer = handle.acquire();
    try {
      MqsealNative.rotate(pointer);
    } finally {
      handle.release();
    }
  }

  /** Returns a snapshot of the operation counters. */
  public Counters counters() {
    long pointer = handle.acquire();
    try {
      return new Counters(MqsealNative.counters(pointer));
    } finally {
      handle.release();
    }
  }

  /**
   * Parses an envelope header without any key and returns its fields.
   *
   * @throws NotEncryptedException when {@code envelope} is not an mqseal envelope
   * @throws MalformedEnvelopeException when the header is invalid or truncated
   */
  public static EnvelopeInfo inspect(byte[] envelope) {
    if (envelope == null) {
      throw ErrorCodes.nullArgument("envelope");
    }
    return MqsealNative.inspect(envelope);
  }

  /**
   * Returns true when {@code body} starts like an mqseal envelope (magic byte and a known
   * version). A cheap check that does not validate the envelope.
   */
  public static boolean looksEncrypted(byte[] body) {
    if (body == null) {
      throw ErrorCodes.nullArgument("body");
    }
    return MqsealNative.looksEncrypted(body);
  }

  /** Returns the version of the loaded native library. */
  public static String nativeVersion() {
    return MqsealNative.nativeVersion();
  }

  /**
   * Closes the cipher. Idempotent and safe to call while other threads use the cipher: calls
   * already running finish normally, the native cipher is freed when the last of them returns,
   * and later calls throw {@link HandleClosedException}.
   */
  @Override
  public void close() {
    cleanable.clean();
  }

  /**
   * Returns a cipher whose first data key is {@code dek}, wrapped as {@code wrapped}; for tests
   * that reproduce the shared known-answer vectors. It cannot wrap or unwrap other keys.
   */
  static MqsealCipher forKnownAnswer(String config, byte[] dek, byte[] wrapped, long keyVersion) {
    return new MqsealCipher(MqsealNative.debugKnownAnswerCipher(config, dek, wrapped, keyVersion));
  }

  /** Returns the native handle, for tests that call {@link MqsealNative} directly. */
  NativeHandle handleForTests() {
    return handle;
  }

  /** Makes the native library panic inside a native method, for tests of the panic boundary. */
  static void debugForcePanic() {
    MqsealNative.debugForcePanic();
  }

  /** A validated byte range of a buffer, as the native methods take it. */
  private static final class Region {
    final byte[] array;
    final ByteBuffer direct;
    final int offset;
    final int length;

    private Region(byte[] array, ByteBuffer direct, int offset, int length) {
      this.array = array;
      this.direct = direct;
      this.offset = offset;
      this.length = length;
    }

    /** Returns the remaining bytes of {@code buffer}; a read-only heap buffer is copied. */
    static Region input(ByteBuffer buffer, String what) {
      if (buffer == null) {
        throw ErrorCodes.nullArgument(what);
      }
      int position = buffer.position();
      int length = buffer.remaining();
      if (buffer.isDirect()) {
        return new Region(null, buffer, position, length);
      }
      if (buffer.hasArray()) {
        int offset = buffer.arrayOffset() + position;
        Objects.checkFromIndexSize(offset, length, buffer.array().length);
        return new Region(buffer.array(), null, offset, length);
      }
      byte[] copy = new byte[length];
      buffer.duplicate().get(copy);
      return new Region(copy, null, 0, length);
    }

    /** Returns the remaining space of {@code buffer}, which must be writable. */
    static Region output(ByteBuffer buffer, String what) {
      if (buffer == null) {
        throw ErrorCodes.nullArgument(what);
      }
      if (buffer.isReadOnly()) {
        throw new ReadOnlyBufferException();
      }
      int position = buffer.position();
      int length = buffer.remaining();
      if (buffer.isDirect()) {
        return new Region(null, buffer, position, length);
      }
      int offset = buffer.arrayOffset() + position;
      Objects.checkFromIndexSize(offset, length, buffer.array().length);
      return new Region(buffer.array(), null, offset, length);
    }
  }

  @Override
  public String toString() {
    return "MqsealCipher{closed=" + handle.isClosed() + "}";
  }

  /**
   * Builds a cipher backed by a local keyring file, key providers, or both. Every setting left
   * unset keeps the core's default (see the configuration reference in mqseal-core).
   */
  public static final class Builder {
    private static final long UNSET = -1;

    private Path keyringPath;
    private final List<KeyProvider> keyProviders = new ArrayList<>();
    private String[] keyIds = new String[0];
    private String suite;
    private String backend;
    private long maxMessagesPerKey = UNSET;
    private long maxBytesPerKey = UNSET;
    private long maxKeyAgeMillis = UNSET;
    private int cacheCapacity = (int) UNSET;
    private long cacheTtlMillis = UNSET;
    private int compression = (int) UNSET;
    private int compressionMinSize = (int) UNSET;
    private int maxBodyLength = (int) UNSET;
    private int storeContext = (int) UNSET;

    private Builder() {}

    /**
     * Sets the keyring file that contains the key-encryption keys. Required unless a {@link
     * #keyProvider(KeyProvider)} is added.
     */
    public Builder keyringPath(Path path) {
      if (path == null) {
        throw ErrorCodes.nullArgument("keyringPath");
      }
      this.keyringPath = path;
      return this;
    }

    /**
     * Adds a key provider implemented by the application. Providers are consulted in the order
     * added, and before the keyring file when one is set, because the keyring claims every
     * well-formed key id: the first that recognizes a key id wraps and unwraps for it. The
     * cipher keeps a reference to the provider until it is closed.
     */
    public Builder keyProvider(KeyProvider provider) {
      if (provider == null) {
        throw ErrorCodes.nullArgument("keyProvider");
      }
      keyProviders.add(provider);
      return this;
    }

    /**
     * Sets the key ids that wrap each new data key; the first generates it. Without key ids the
     * cipher can only decrypt.
     */
    public Builder keyIds(String... ids) {
      if (ids == null) {
        throw ErrorCodes.nullArgument("keyIds");
      }
      for (int i = 0; i < ids.length; i++) {
        if (ids[i] == null) {
          throw ErrorCodes.nullArgument("keyIds[" + i + "]");
        }
      }
      this.keyIds = ids.clone();
      return this;
    }

    /** Sets the suite for new envelopes: {@code aes-256-gcm} (default) or {@code chacha20-poly1305}. */
    public Builder suite(String suite) {
      if (suite == null) {
        throw ErrorCodes.nullArgument("suite");
      }
      this.suite = suite;
      return this;
    }

    /** Sets the crypto backend, {@code aws-lc} (default) or another compiled into the library. */
    public Builder backend(String backend) {
      if (backend == null) {
        throw ErrorCodes.nullArgument("backend");
      }
      this.backend = backend;
      return this;
    }

    /** Sets how many messages one data key encrypts before it is replaced; at least 1. */
    public Builder maxMessagesPerKey(long messages) {
      this.maxMessagesPerKey = positive(messages, "maxMessagesPerKey");
      return this;
    }

    /** Sets how many plaintext bytes one data key encrypts before it is replaced; at least 1. */
    public Builder maxBytesPerKey(long bytes) {
      this.maxBytesPerKey = positive(bytes, "maxBytesPerKey");
      return this;
    }

    /** Sets how long a data key encrypts before it is replaced, in milliseconds precision. */
    public Builder maxKeyAge(Duration age) {
      this.maxKeyAgeMillis = positive(millis(age, "maxKeyAge"), "maxKeyAge in milliseconds");
      return this;
    }

    /** Sets how many unwrapped data keys the consumer cache holds; 0 disables the cache. */
    public Builder cacheCapacity(int keys) {
      this.cacheCapacity = (int) nonNegative(keys, "cacheCapacity");
      return this;
    }

    /** Sets how long an unwrapped data key stays in the consumer cache. */
    public Builder cacheTtl(Duration ttl) {
      this.cacheTtlMillis = nonNegative(millis(ttl, "cacheTtl"), "cacheTtl");
      return this;
    }

    /**
     * Turns LZ4 compression before encryption on or off (off by default). Compression lets
     * envelope sizes reveal how compressible, and so partly what, the plaintext is.
     */
    public Builder compression(boolean enabled) {
      this.compression = enabled ? 1 : 0;
      return this;
    }

    /** Sets the smallest body, in bytes, that is compressed when compression is on. */
    public Builder compressionMinSize(int bytes) {
      this.compressionMinSize = (int) nonNegative(bytes, "compressionMinSize");
      return this;
    }

    /** Sets the largest body, in bytes, accepted for encryption and produced by decryption. */
    public Builder maxBodyLength(int bytes) {
      this.maxBodyLength = (int) positive(bytes, "maxBodyLength");
      return this;
    }

    /** Stores the context in the header, so consumers can decrypt without passing it. */
    public Builder storeContext(boolean store) {
      this.storeContext = store ? 1 : 0;
      return this;
    }

    /**
     * Creates the cipher.
     *
     * @throws InvalidArgumentException (code 103) when a setting is invalid or missing
     * @throws KeyNotFoundException when the keyring does not hold a configured key id
     */
    public MqsealCipher build() {
      if (keyringPath == null && keyProviders.isEmpty()) {
        throw ErrorCodes.invalidConfig(
            "neither keyringPath nor a keyProvider is set; call keyringPath(Path) with the"
                + " keyring file or keyProvider(KeyProvider)");
      }
      long pointer =
          MqsealNative.cipherNew(
              keyringPath == null ? null : keyringPath.toAbsolutePath().toString(),
              keyProviders.toArray(new KeyProvider[0]),
              keyIds,
              suite,
              backend,
              maxMessagesPerKey,
              maxBytesPerKey,
              maxKeyAgeMillis,
              cacheCapacity,
              cacheTtlMillis,
              compression,
              compressionMinSize,
              maxBodyLength,
              storeContext);
      return new MqsealCipher(pointer);
    }

    private static long millis(Duration duration, String what) {
      if (duration == null) {
        throw ErrorCodes.nullArgument(what);
      }
      try {
        return duration.toMillis();
      } catch (ArithmeticException e) {
        throw ErrorCodes.invalidConfig(what + " = " + duration + " is too long");
      }
    }

    private static long positive(long value, String what) {
      if (value <= 0) {
        throw ErrorCodes.invalidConfig(what + " = " + value + " must be positive");
      }
      return value;
    }

    private static long nonNegative(long value, String what) {
      if (value < 0) {
        throw ErrorCodes.invalidConfig(what + " = " + value + " must not be negative");
      }
      return value;
    }
  }
}
