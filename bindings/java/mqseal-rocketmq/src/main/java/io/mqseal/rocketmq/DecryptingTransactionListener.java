package io.mqseal.rocketmq;

import io.mqseal.MqsealException;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Map;
import org.apache.rocketmq.client.producer.LocalTransactionState;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageExt;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Wraps the application's {@link TransactionListener} so it never receives ciphertext.
 *
 * <p>{@code executeLocalTransaction} runs on the sending thread inside {@code
 * sendMessageInTransaction} (RocketMQ 5.3.3), and receives the application's own plaintext message
 * and argument. {@code checkLocalTransaction} receives a decrypted copy of the half message that
 * the broker stored; when that copy cannot be decrypted the state is {@code UNKNOW}, so the broker
 * asks again later and never commits on a guess.
 */
final class DecryptingTransactionListener implements TransactionListener {
  private static final Logger LOG = LoggerFactory.getLogger(DecryptingTransactionListener.class);

  private final TransactionListener delegate;
  private final MessageDecryptor decryptor;
  private final Map<Message, Message> originalsBySentCopy =
      Collections.synchronizedMap(new IdentityHashMap<>());

  DecryptingTransactionListener(TransactionListener delegate, MessageDecryptor decryptor) {
    this.delegate = delegate;
    this.decryptor = decryptor;
  }

  TransactionListener delegate() {
    return delegate;
  }

  /** Maps the encrypted copy to the application's message for the duration of one send. */
  void register(Message encryptedCopy, Message original) {
    originalsBySentCopy.put(encryptedCopy, original);
  }

  void unregister(Message encryptedCopy) {
    originalsBySentCopy.remove(encryptedCopy);
  }

  @Override
  public LocalTransactionState executeLocalTransaction(Message message, Object arg) {
    Message original = originalsBySentCopy.get(message);
    if (original == null) {
      // Sent on the underlying producer, not through EncryptingProducer.
      return delegate.executeLocalTransaction(message, arg);
    }
    original.setTransactionId(message.getTransactionId());
    return delegate.executeLocalTransaction(original, arg);
  }

  @Override
  public LocalTransactionState checkLocalTransaction(MessageExt message) {
    MessageExt plaintext;
    try {
      plaintext = decryptor.decrypt(message).message();
    } catch (MqsealException e) {
      LOG.error(
          "Transaction check failed to decrypt {}: {} (code {}, retryable {}); "
              + "answering UNKNOW so the broker checks again later",
          MessageDecryptor.describe(message),
          e.codeName(),
          e.code(),
          e.isRetryable());
      return LocalTransactionState.UNKNOW;
    }
    return delegate.checkLocalTransaction(plaintext);
  }
}
