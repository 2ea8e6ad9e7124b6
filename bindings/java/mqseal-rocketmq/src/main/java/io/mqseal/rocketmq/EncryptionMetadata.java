package io.mqseal.rocketmq;

import io.mqseal.EnvelopeInfo;
import io.mqseal.MqsealCipher;
import io.mqseal.MqsealProperties;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;

/**
 * Writes and clears the plain-text metadata properties of an encrypted message.
 *
 * <p>The envelope is self-describing and decryption never reads these properties. They let
 * operators and broker-side filters see the envelope version, suite, key id and key version without
 * decrypting. Names of sealed properties are not recorded, because names can be as sensitive as
 * values.
 */
final class EncryptionMetadata {
  private EncryptionMetadata() {}

  /**
   * Metadata of the last data key seen, keyed by the envelope bytes that are the same for every
   * message under that key: magic, version, suite, key count and the wrapped keys.
   */
  private record KeyMetadata(byte[] keyPrefix, String version, String suite, String keyIds,
      String keyVersions) {}

  private static volatile KeyMetadata last;

  /** Sets the metadata properties of {@code message} from the header of {@code envelope}. */
  static void apply(Message message, byte[] envelope, String logicalTopic) {
    KeyMetadata meta = metadataOf(envelope);
    put(message, MqsealProperties.VERSION, meta.version());
    put(message, MqsealProperties.SUITE, meta.suite());
    put(message, MqsealProperties.KEY_ID, meta.keyIds());
    put(message, MqsealProperties.KEY_VERSION, meta.keyVersions());
    put(message, MqsealProperties.TOPIC, PropertyValues.textSafe(logicalTopic));
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
    KeyMetadata fresh = new KeyMetadata(
        keysEnd > 0 ? java.util.Arrays.copyOf(envelope, keysEnd) : new byte[0],
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
    return java.util.Arrays.equals(prefix, 0, 3, envelope, 0, 3)
        && java.util.Arrays.equals(prefix, 4, keysEnd, envelope, 4, keysEnd);
  }

  /** RocketMQ drops properties with empty values when it parses them, so none is set. */
  private static void put(Message message, String name, String value) {
    if (value == null || value.isEmpty()) {
      MessageAccessor.clearProperty(message, name);
    } else {
      MessageAccessor.putProperty(message, name, value);
    }
  }

  /** Removes the diagnostic properties that a dead-letter forward added. */
  static void clearDiagnostics(Map<String, String> properties) {
    properties.remove(MqsealProperties.ERROR_CODE);
    properties.remove(MqsealProperties.ERROR_NAME);
    properties.remove(MqsealProperties.ERROR_RETRYABLE);
  }
}
