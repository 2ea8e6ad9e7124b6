package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealException;
import java.util.Objects;
import org.apache.rocketmq.client.apis.message.MessageView;
import org.apache.rocketmq.client.apis.producer.TransactionChecker;
import org.apache.rocketmq.client.apis.producer.TransactionResolution;

/**
 * Wraps the application's {@link TransactionChecker} so it receives a {@link DecryptedMessageView}
 * of the half message instead of the envelope.
 *
 * <p>When the half message cannot be decrypted the resolution is {@code UNKNOWN}, so the broker
 * checks again later and nothing is committed or rolled back on a guess. Install it when building
 * the producer: {@code setTransactionChecker(DecryptingTransactionChecker.wrap(cipher, checker))}.
 */
public final class DecryptingTransactionChecker implements TransactionChecker {
  private final TransactionChecker delegate;
  private final ViewDecryptor decryptor;

  private DecryptingTransactionChecker(MqsealCipher cipher, TransactionChecker delegate) {
    this.delegate = delegate;
    this.decryptor = new ViewDecryptor(cipher, false, MessageView::getTopic);
  }

  /** Returns a checker that decrypts with {@code cipher} and then calls {@code checker}. */
  public static DecryptingTransactionChecker wrap(MqsealCipher cipher, TransactionChecker checker) {
    return new DecryptingTransactionChecker(
        Objects.requireNonNull(cipher, "cipher"), Objects.requireNonNull(checker, "checker"));
  }

  @Override
  public TransactionResolution check(MessageView messageView) {
    DecryptedMessageView plaintext;
    try {
      plaintext = decryptor.decrypt(messageView);
    } catch (MqsealException e) {
      FailureLog.log(
          messageView, e, "the transaction check answers UNKNOWN so the broker checks again later");
      return TransactionResolution.UNKNOWN;
    }
    return delegate.check(plaintext);
  }
}
