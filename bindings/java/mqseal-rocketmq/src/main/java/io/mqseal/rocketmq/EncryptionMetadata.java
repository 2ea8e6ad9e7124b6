package io.mqseal.rocketmq;

import io.mqseal.rocketmq.common.EnvelopeMetadata;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageAccessor;

/**
 * Writes the plain-text metadata properties of an encrypted message, as {@link EnvelopeMetadata}
 * computes them, onto a remoting {@link Message}.
 */
final class EncryptionMetadata {
  private EncryptionMetadata() {}

  /** Sets the metadata properties of {@code message} from the header of {@code envelope}. */
  static void apply(Message message, byte[] envelope, String logicalTopic) {
    Map<String, String> metadata = EnvelopeMetadata.of(envelope, logicalTopic);
    for (String name : EnvelopeMetadata.names()) {
      String value = metadata.get(name);
      if (value == null) {
        // RocketMQ drops properties with empty values when it parses them, so none is set.
        MessageAccessor.clearProperty(message, name);
      } else {
        MessageAccessor.putProperty(message, name, value);
      }
    }
  }

  /** Removes the diagnostic properties that a dead-letter forward added. */
  static void clearDiagnostics(Map<String, String> properties) {
    EnvelopeMetadata.clearDiagnostics(properties);
  }
}
