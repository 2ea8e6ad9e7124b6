package io.mqseal.rocketmq5;

import io.mqseal.MqsealException;
import io.mqseal.rocketmq.common.LogLimiter;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Logs messages that could not be decrypted, with the message id, topic, key id, key version and
 * error code, never body bytes or keys. At most 20 lines per 10 s for every consumer together, so a
 * key-provider outage or a topic full of undecryptable messages does not flood the log.
 */
final class FailureLog {
  private static final Logger LOG = LoggerFactory.getLogger(FailureLog.class);
  private static final LogLimiter LIMITER = new LogLimiter(10_000, 20);

  private FailureLog() {}

  static void log(MessageView view, MqsealException error, String action) {
    long heldBack = LIMITER.tryAcquire();
    if (heldBack < 0) {
      return;
    }
    LOG.warn(
        "Failed to decrypt {}: {} (code {}, retryable {}); {}{}",
        ViewDecryptor.describe(view),
        error.codeName(),
        error.code(),
        error.isRetryable(),
        action,
        heldBack > 0 ? "; " + heldBack + " similar lines not logged" : "");
  }
}
