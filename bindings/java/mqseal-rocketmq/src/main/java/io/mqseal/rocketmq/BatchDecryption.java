package io.mqseal.rocketmq;

import io.mqseal.MqsealException;
import io.mqseal.rocketmq.common.LogLimiter;
import java.util.ArrayList;
import java.util.List;
import org.apache.rocketmq.common.message.MessageExt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decrypts one batch for a push listener and sorts the messages into plaintext copies, the first
 * retryable failure, and permanent failures.
 */
final class BatchDecryption {
  private static final Logger LOG = LoggerFactory.getLogger(BatchDecryption.class);
  private static final LogLimiter RETRYABLE_LOG = new LogLimiter(10_000, 1);

  /** Decrypted copies, in the order of the batch. */
  final List<MessageExt> plaintext = new ArrayList<>();

  /** For each decrypted copy, the index of its original in the batch. */
  final List<Integer> positions = new ArrayList<>();

  /** The client's own messages that can never be decrypted, with their errors. */
  final List<Failure> permanent = new ArrayList<>();

  /** The first retryable failure, or null. */
  Failure retryable;

  /** A message of the batch and why it could not be decrypted. */
  record Failure(MessageExt message, MqsealException error) {}

  private BatchDecryption() {}

  static BatchDecryption run(MessageDecryptor decryptor, List<MessageExt> messages) {
    DecryptionOutcomes.begin();
    BatchDecryption batch = new BatchDecryption();
    for (int i = 0; i < messages.size(); i++) {
      MessageExt message = messages.get(i);
      try {
        MessageDecryptor.Decryption decryption = decryptor.decrypt(message);
        batch.plaintext.add(decryption.message());
        batch.positions.add(i);
        DecryptionOutcomes.record(
            message,
            decryption.wasEncrypted()
                ? DecryptionOutcomes.Outcome.DECRYPTED
                : DecryptionOutcomes.Outcome.UNENCRYPTED,
            null);
      } catch (MqsealException e) {
        DecryptionOutcomes.record(message, DecryptionOutcomes.Outcome.FAILED, e.codeName());
        if (!e.isRetryable()) {
          batch.permanent.add(new Failure(message, e));
        } else if (batch.retryable == null) {
          // NOTE: no broker test reaches this branch, because the local keyring provider never
          // fails transiently; a failing test provider would need support in mqseal-java.
          batch.retryable = new Failure(message, e);
        }
      }
    }
    return batch;
  }

  /** Logs the retryable failure, at most once per 10 seconds across all listeners. */
  void logRetryable(String action) {
    long heldBack = RETRYABLE_LOG.tryAcquire();
    if (heldBack >= 0) {
      LOG.warn(
          "Failed to decrypt {}: {} (code {}, retryable); {}; {} similar failures not logged "
              + "in the last 10 s",
          MessageDecryptor.describe(retryable.message()),
          retryable.error().codeName(),
          retryable.error().code(),
          action,
          heldBack);
    }
  }

  /**
   * Maps the acknowledgement index the application set over {@link #plaintext} to an index over the
   * whole batch.
   */
  int mapAckIndex(int plaintextAckIndex, int batchSize) {
    if (plaintextAckIndex >= plaintext.size() - 1) {
      return batchSize - 1;
    }
    if (plaintextAckIndex < 0) {
      return plaintextAckIndex;
    }
    return positions.get(plaintextAckIndex);
  }
}
