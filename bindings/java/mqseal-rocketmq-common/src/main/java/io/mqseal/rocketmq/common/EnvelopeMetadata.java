package io.mqseal.rocketmq.common;

import io.mqseal.EnvelopeInfo;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Computes the plain-text metadata properties of an encrypted message from its envelope header.
 *
 * <p>The envelope is self-describing and decryption never reads these properties. They let
 * operators and broker-side filters see the envelope version, suite, key id and key version without
 * decrypting. Names of sealed properties are not recorded, because names can be as sensitive as
 * values.
 */
public final class EnvelopeMetadata {
  private EnvelopeMetadata() {}

  /**
   * Metadata of the last data key seen, keyed by the envelope bytes that are the same for every
   * message under that key: magic, version, suite, key count and the wrapped keys.
   */
  private record KeyMetadata(
      byte[] keyPrefix, String version, String suite, String keyIds, String keyVersions) {}

  private static volatile KeyMetadata last;

  /**
   * Returns the metadata properties of {@code envelope} bound to {@code logicalTopic}: {@link
   * MqsealProperties#VERSION}, {@link MqsealProperties#SUITE}, {@link MqsealProperties#KEY_ID},
   * {@link MqsealProperties#KEY_VERSION} and {@link MqsealProperties#TOPIC}, in that order. Values
   * are text-safe ({@link PropertyValues#textSafe}); a property whose value would be empty is left
   * out, because RocketMQ drops empty values.
   */
  public static Map<String, String> of(byte[] envelope, String logicalTopic) {
    KeyMetadata meta = metadataOf(envelope);
    Map<String, String> properties = new LinkedHashMap<>();
    putNonEmpty(properties, MqsealProperties.VERSION, meta.version());
    putNonEmpty(properties, MqsealProperties.SUITE, meta.suite());
    putNonEmpty(properties, MqsealProperties.KEY_ID, meta.keyIds());
    putNonEmpty(properties, MqsealProperties.KEY_VERSION, meta.keyVersions());
    putNonEmpty(properties, MqsealProperties.TOPIC, PropertyValues.textSafe(logicalTopic));
    return properties;
  }

  /** Returns the names of every property {@link #of} can set. */
  public static String[] names() {
    return new String[] {
      MqsealProperties.VERSION,
      MqsealProperties.SUITE,
      MqsealProperties.KEY_ID,
      MqsealProperties.KEY_VERSION,
      MqsealProperties.TOPIC
    };
  }

  /**
   * Returns "key K version V" for logs, read from the envelope header of {@code body}; it never
   * contains body bytes or key material. A body that is not an envelope gives "key unknown version
   * unknown".
   */
  public static String describeKey(byte[] body) {
    String keyId = "unknown";
    String keyVersion = "unknown";
    if (body != null && MqsealCipher.looksEncrypted(body)) {
      try {
        EnvelopeInfo info = MqsealCipher.inspect(body);
        keyId = PropertyValues.joinTextSafe(info.keyIds());
        keyVersion = PropertyValues.joinTextSafe(info.keyVersions());
      } catch (io.mqseal.MqsealException e) {
        keyId = "unreadable (" + e.codeName() + ")";
        keyVersion = "unreadable";
      }
    }
    return "key " + keyId + " version " + keyVersion;
  }

  /** Removes the diagnostic properties that a dead-letter forward added. */
  public static void clearDiagnostics(Map<String, String> properties) {
    properties.remove(MqsealProperties.ERROR_CODE);
    properties.remove(MqsealProperties.ERROR_NAME);
    properties.remove(MqsealProperties.ERROR_RETRYABLE);
  }

  /**
   * Returns the metadata of {@code envelope}, reusing the last result while the data key is the
   * same, so that {@link MqsealCipher#inspect} runs once per data key instead of once per message.
   */
  private static KeyMetadata metadataOf(byte[] envelope) {
    int keysEnd = keyListEnd(envelope);
    KeyMetadata cached = last;
    if (keysEnd > 0 && cached != null && sameKeyPrefix(cached.keyPrefix(), envelope, keysEnd)) {
      return cached;
    }
    EnvelopeInfo info = MqsealCipher.inspect(envelope);
    KeyMetadata fresh =
        new KeyMetadata(
            keysEnd > 0 ? Arrays.copyOf(envelope, keysEnd) : new byte[0],
            Integer.toString(info.version()),
            PropertyValues.textSafe(info.suite()),
            PropertyValues.joinTextSafe(info.keyIds()),
            PropertyValues.joinTextSafe(info.keyVersions()));
    if (keysEnd > 0) {
      last = fresh;
    }
    return fresh;
  }

  /**
   * Returns the offset where the list of wrapped keys ends (see docs/FORMAT.md), or -1 when the
   * bytes do not hold a complete key list.
   */
  static int keyListEnd(byte[] envelope) {
    if (envelope.length < 5) {
      return -1;
    }
    int count = envelope[4] & 0xFF;
    int pos = 5;
    for (int i = 0; i < count; i++) {
      if (pos >= envelope.length) {
        return -1;
      }
      pos += 1 + (envelope[pos] & 0xFF) + 4;
      if (pos + 2 > envelope.length) {
        return -1;
      }
      pos += 2 + (((envelope[pos] & 0xFF) << 8) | (envelope[pos + 1] & 0xFF));
    }
    return pos <= envelope.length ? pos : -1;
  }

  /** Compares every key-prefix byte except the flag byte (offset 3), which varies per message. */
  private static boolean sameKeyPrefix(byte[] prefix, byte[] envelope, int keysEnd) {
    if (prefix.length != keysEnd) {
      return false;
    }
    return Arrays.equals(prefix, 0, 3, envelope, 0, 3)
        && Arrays.equals(prefix, 4, keysEnd, envelope, 4, keysEnd);
  }

  private static void putNonEmpty(Map<String, String> properties, String name, String value) {
    if (value != null && !value.isEmpty()) {
      properties.put(name, value);
    }
  }
}
