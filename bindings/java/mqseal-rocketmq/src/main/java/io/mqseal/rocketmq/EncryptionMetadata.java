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

  /** Sets the metadata properties of {@code message} from the header of {@code envelope}. */
  static void apply(Message message, byte[] envelope, String logicalTopic) {
    EnvelopeInfo info = MqsealCipher.inspect(envelope);
    put(message, MqsealProperties.VERSION, Integer.toString(info.version()));
    put(message, MqsealProperties.SUITE, PropertyValues.textSafe(info.suite()));
    put(message, MqsealProperties.KEY_ID, PropertyValues.joinTextSafe(info.keyIds()));
    put(message, MqsealProperties.KEY_VERSION, PropertyValues.joinTextSafe(info.keyVersions()));
    put(message, MqsealProperties.TOPIC, PropertyValues.textSafe(logicalTopic));
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
