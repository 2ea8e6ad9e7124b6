package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Objects;
import org.apache.rocketmq.client.exception.MQBrokerException;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.client.producer.MessageQueueSelector;
import org.apache.rocketmq.client.producer.SendCallback;
import org.apache.rocketmq.client.producer.SendResult;
import org.apache.rocketmq.client.producer.TransactionListener;
import org.apache.rocketmq.client.producer.TransactionMQProducer;
import org.apache.rocketmq.client.producer.TransactionSendResult;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageQueue;
import org.apache.rocketmq.remoting.exception.RemotingException;

/**
 * Encrypts message bodies before a {@link DefaultMQProducer} or {@link TransactionMQProducer} sees
 * them.
 *
 * <p>Every send builds an encrypted copy of the application's message and hands that copy to the
 * client, so the client's size check, retries, batching and namespaces all work on ciphertext, and
 * the application's message keeps its plaintext body. The copy carries the envelope as its body,
 * the context {@code {topic: <logical topic>}}, and the metadata properties {@code mqseal-v},
 * {@code mqseal-suite}, {@code mqseal-kid}, {@code mqseal-kver} and {@code mqseal-topic}.
 * Properties selected with {@link Builder#sealProperties} and {@link Builder#sealPropertyPrefixes}
 * move into the envelope; their names are not recorded outside it.
 *
 * <p>Failures are closed: when encryption fails the send method throws the {@link
 * io.mqseal.MqsealException} and nothing is sent, for asynchronous and one-way sends too. A message
 * that is too large once encrypted raises {@link MessageTooLargeException} before anything is sent.
 *
 * <p>Building the facade sets the producer's {@code compressMsgBodyOverHowmuch} to {@link
 * Integer#MAX_VALUE}: ciphertext does not compress, and the cipher can compress inside the envelope
 * instead. Thread-safe when the cipher and producer are. The facade does not own the cipher; close
 * it after {@link #shutdown()}.
 */
public final class EncryptingProducer {
  private final DefaultMQProducer producer;
  private final MessageEncryptor encryptor;
  private final MessageDecryptor decryptor;
  private volatile DecryptingTransactionListener transactionListener;

  private EncryptingProducer(Builder builder) {
    this.producer = builder.producer;
    SealedPropertySelector selector =
        new SealedPropertySelector(builder.sealedNames, builder.sealedPrefixes);
    this.encryptor = new MessageEncryptor(builder.cipher, selector);
    this.decryptor = new MessageDecryptor(builder.cipher, false);
    producer.setCompressMsgBodyOverHowmuch(Integer.MAX_VALUE);
    if (producer instanceof TransactionMQProducer) {
      TransactionListener listener = ((TransactionMQProducer) producer).getTransactionListener();
      if (listener != null) {
        setTransactionListener(listener);
      }
    }
  }

  /** Starts a builder for a facade over {@code producer} that encrypts with {@code cipher}. */
  public static Builder builder(DefaultMQProducer producer, MqsealCipher cipher) {
    return new Builder(producer, cipher);
  }

  /** Returns the underlying producer. Messages sent on it directly are not encrypted. */
  public DefaultMQProducer getProducer() {
    return producer;
  }

  public void start() throws MQClientException {
    producer.start();
  }

  public void shutdown() {
    producer.shutdown();
  }

  /**
   * Installs {@code listener} on the underlying {@link TransactionMQProducer}, wrapped so that
   * {@code executeLocalTransaction} receives the application's plaintext message and {@code
   * checkLocalTransaction} a decrypted copy of the stored half message.
   */
  public void setTransactionListener(TransactionListener listener) {
    Objects.requireNonNull(listener, "listener");
    TransactionMQProducer transactional = requireTransactional();
    DecryptingTransactionListener wrapper =
        listener instanceof DecryptingTransactionListener
            ? (DecryptingTransactionListener) listener
            : new DecryptingTransactionListener(listener, decryptor);
    this.transactionListener = wrapper;
    transactional.setTransactionListener(wrapper);
  }

  /**
   * Returns the encrypted copy that a send of {@code message} would hand to the client. Use it for
   * send paths this facade does not cover; the copy is checked against {@code maxMessageSize} like
   * a send.
   */
  public Message encrypt(Message message) throws MessageTooLargeException {
    return encryptChecked(message);
  }

  /**
   * Returns the largest plaintext body that fits under {@code maxMessageSize} once encrypted, for a
   * message with the topic and properties of {@code template} (its body is ignored). Exact unless
   * the cipher compresses bodies.
   */
  public int maxBodySize(Message template) {
    return encryptor.maxBodySize(template, producer.getMaxMessageSize(), namespace());
  }

  /** Like {@link #maxBodySize}, for a batch holding one message shaped like {@code template}. */
  public int maxBatchBodySize(Message template) {
    return encryptor.maxBatchBodySize(template, producer.getMaxMessageSize());
  }

  // --- Synchronous, asynchronous and one-way sends -------------------------------------

  public SendResult send(Message message)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptChecked(message));
  }

  public SendResult send(Message message, long timeoutMillis)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptChecked(message), timeoutMillis);
  }

  public void send(Message message, SendCallback callback)
      throws MQClientException, RemotingException, InterruptedException {
    producer.send(encryptChecked(message), callback);
  }

  public void send(Message message, SendCallback callback, long timeoutMillis)
      throws MQClientException, RemotingException, InterruptedException {
    producer.send(encryptChecked(message), callback, timeoutMillis);
  }

  public void sendOneway(Message message)
      throws MQClientException, RemotingException, InterruptedException {
    producer.sendOneway(encryptChecked(message));
  }

  // --- Sends to a given queue -------------------------------------------------------------

  public SendResult send(Message message, MessageQueue queue)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptChecked(message), queue);
  }

  public SendResult send(Message message, MessageQueue queue, long timeoutMillis)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptChecked(message), queue, timeoutMillis);
  }

  public void send(Message message, MessageQueue queue, SendCallback callback)
      throws MQClientException, RemotingException, InterruptedException {
    producer.send(encryptChecked(message), queue, callback);
  }

  public void sendOneway(Message message, MessageQueue queue)
      throws MQClientException, RemotingException, InterruptedException {
    producer.sendOneway(encryptChecked(message), queue);
  }

  // --- Ordered sends: the selector receives the application's plaintext message ----------

  public SendResult send(Message message, MessageQueueSelector selector, Object arg)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptChecked(message), plaintextSelector(selector, message), arg);
  }

  public SendResult send(
      Message message, MessageQueueSelector selector, Object arg, long timeoutMillis)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(
        encryptChecked(message), plaintextSelector(selector, message), arg, timeoutMillis);
  }

  public void send(
      Message message, MessageQueueSelector selector, Object arg, SendCallback callback)
      throws MQClientException, RemotingException, InterruptedException {
    producer.send(encryptChecked(message), plaintextSelector(selector, message), arg, callback);
  }

  public void send(
      Message message,
      MessageQueueSelector selector,
      Object arg,
      SendCallback callback,
      long timeoutMillis)
      throws MQClientException, RemotingException, InterruptedException {
    producer.send(
        encryptChecked(message),
        plaintextSelector(selector, message),
        arg,
        callback,
        timeoutMillis);
  }

  public void sendOneway(Message message, MessageQueueSelector selector, Object arg)
      throws MQClientException, RemotingException, InterruptedException {
    producer.sendOneway(encryptChecked(message), plaintextSelector(selector, message), arg);
  }

  // --- Batches: each message gets its own envelope -----------------------------------------

  public SendResult send(Collection<Message> messages)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptBatch(messages));
  }

  public SendResult send(Collection<Message> messages, long timeoutMillis)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptBatch(messages), timeoutMillis);
  }

  public SendResult send(Collection<Message> messages, MessageQueue queue)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    return producer.send(encryptBatch(messages), queue);
  }

  public void send(Collection<Message> messages, SendCallback callback)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    producer.send(encryptBatch(messages), callback);
  }

  public void send(Collection<Message> messages, MessageQueue queue, SendCallback callback)
      throws MQClientException, RemotingException, MQBrokerException, InterruptedException {
    producer.send(encryptBatch(messages), queue, callback);
  }

  // --- Transactions ------------------------------------------------------------------------

  /**
   * Sends {@code message} as a transactional half message. The transaction listener (see {@link
   * #setTransactionListener}) receives the application's plaintext message and {@code arg} in
   * {@code executeLocalTransaction}.
   */
  public TransactionSendResult sendMessageInTransaction(Message message, Object arg)
      throws MQClientException {
    TransactionMQProducer transactional = requireTransactional();
    DecryptingTransactionListener listener = transactionListener;
    if (listener == null || transactional.getTransactionListener() != listener) {
      throw new MQClientException(
          "the transactional producer "
              + producer.getProducerGroup()
              + " has no transaction listener set through EncryptingProducer; call "
              + "setTransactionListener on the facade before sending",
          null);
    }
    Message copy = encryptChecked(message);
    listener.register(copy, message);
    try {
      return transactional.sendMessageInTransaction(copy, arg);
    } finally {
      listener.unregister(copy);
    }
  }

  // --- Helpers -------------------------------------------------------------------------------

  private Message encryptChecked(Message message) throws MessageTooLargeException {
    Message copy = encryptor.encrypt(message);
    MessageEncryptor.checkSize(message, copy, producer.getMaxMessageSize(), namespace());
    return copy;
  }

  private List<Message> encryptBatch(Collection<Message> messages) throws MessageTooLargeException {
    return encryptor.encryptBatch(messages, producer.getMaxMessageSize());
  }

  @SuppressWarnings("deprecation") // the remoting client's namespace API in RocketMQ 5.3.3
  private String namespace() {
    return producer.getNamespace();
  }

  private static MessageQueueSelector plaintextSelector(
      MessageQueueSelector selector, Message original) {
    Objects.requireNonNull(selector, "selector");
    return (queues, encryptedCopy, arg) -> selector.select(queues, original, arg);
  }

  private TransactionMQProducer requireTransactional() {
    if (!(producer instanceof TransactionMQProducer)) {
      throw new IllegalStateException(
          "producer group "
              + producer.getProducerGroup()
              + " uses a "
              + producer.getClass().getSimpleName()
              + "; transactional sends need a TransactionMQProducer");
    }
    return (TransactionMQProducer) producer;
  }

  /** Configures an {@link EncryptingProducer}. */
  public static final class Builder {
    private final DefaultMQProducer producer;
    private final MqsealCipher cipher;
    private final List<String> sealedNames = new ArrayList<>();
    private final List<String> sealedPrefixes = new ArrayList<>();

    private Builder(DefaultMQProducer producer, MqsealCipher cipher) {
      this.producer = Objects.requireNonNull(producer, "producer");
      this.cipher = Objects.requireNonNull(cipher, "cipher");
    }

    /**
     * Seals the user properties with these exact names: they travel inside the envelope and are
     * restored for the consumer's listener. System properties such as {@code TAGS} and {@code KEYS}
     * cannot be sealed.
     */
    public Builder sealProperties(String... names) {
      sealedNames.addAll(Arrays.asList(names));
      return this;
    }

    /** Seals every user property whose name starts with one of these prefixes. */
    public Builder sealPropertyPrefixes(String... prefixes) {
      sealedPrefixes.addAll(Arrays.asList(prefixes));
      return this;
    }

    public EncryptingProducer build() {
      return new EncryptingProducer(this);
    }
  }
}
