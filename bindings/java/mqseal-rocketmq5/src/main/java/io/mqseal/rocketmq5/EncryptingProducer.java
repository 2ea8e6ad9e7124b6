package io.mqseal.rocketmq5;

import io.mqseal.MqsealCipher;
import io.mqseal.rocketmq.common.PropertySealing;
import java.io.Closeable;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import org.apache.rocketmq.client.apis.ClientException;
import org.apache.rocketmq.client.apis.ClientServiceProvider;
import org.apache.rocketmq.client.apis.message.Message;
import org.apache.rocketmq.client.apis.producer.Producer;
import org.apache.rocketmq.client.apis.producer.SendReceipt;
import org.apache.rocketmq.client.apis.producer.Transaction;

/**
 * Encrypts message bodies before a RocketMQ 5.x gRPC {@link Producer} receives them.
 *
 * <p>Every send builds an encrypted copy of the application's {@link Message} and hands the copy to
 * the producer. The copy carries the envelope as its body, bound to the context {@code {topic:
 * <message topic>}}, and the metadata properties {@code mqseal-v}, {@code mqseal-suite}, {@code
 * mqseal-kid}, {@code mqseal-kver} and {@code mqseal-topic}. Tag, keys, message group (FIFO) and
 * delivery timestamp (delayed messages) are copied in plain text, so the broker can filter,
 * order and schedule. Properties selected with {@link Builder#sealProperties} and {@link
 * Builder#sealPropertyPrefixes} move into the envelope.
 *
 * <p>The client's {@code MessageInterceptor} cannot change a message, which is why this is a facade
 * and not an interceptor. Messages sent on {@link #getProducer()} directly are not encrypted.
 *
 * <p>Before anything is sent, the facade checks what the RocketMQ proxy would reject:
 *
 * <ul>
 *   <li>a control character in the tag, a key, the message group or a plain-text property name or
 *       value raises {@link IllegalArgumentException} naming the field;
 *   <li>an envelope longer than {@link Builder#maxBodySize} (default 4 MiB, the proxy's default
 *       {@code maxMessageSize}) raises {@link MessageTooLargeException};
 *   <li>more than {@link Builder#maxPropertyCount} plain-text properties, or property names, values,
 *       tag and keys of more than {@link Builder#maxPropertyBytes} UTF-8 bytes (defaults 128 and
 *       16 KiB, the proxy's {@code userPropertyMaxNum} and {@code maxUserPropertySize}), raise
 *       {@link MessageTooLargeException}.
 * </ul>
 *
 * <p>Failures are closed: when encryption fails the send method throws the {@link
 * io.mqseal.MqsealException} ({@link #sendAsync} returns a future failed with it) and nothing is
 * sent. Thread-safe when the cipher is. The facade does not own the cipher; close it after {@link
 * #close()}.
 *
 * <p>Transactions: build the producer with {@link DecryptingTransactionChecker#wrap} as its checker,
 * then {@code beginTransaction()}, {@code send(message, transaction)} and {@code commit()} or
 * {@code rollback()} as usual.
 */
public final class EncryptingProducer implements Closeable {
  /** The proxy's default {@code maxMessageSize} in RocketMQ 5.3.3: 4 MiB. */
  public static final int DEFAULT_MAX_BODY_SIZE = 4 * 1024 * 1024;

  /** The proxy's default {@code maxUserPropertySize} in RocketMQ 5.3.3: 16 KiB. */
  public static final int DEFAULT_MAX_PROPERTY_BYTES = 16 * 1024;

  /** The proxy's default {@code userPropertyMaxNum} in RocketMQ 5.3.3. */
  public static final int DEFAULT_MAX_PROPERTY_COUNT = 128;

  private final Producer producer;
  private final OutgoingEncryptor encryptor;

  private EncryptingProducer(Builder builder) {
    this.producer = builder.producer;
    PropertySealing sealing =
        new PropertySealing(
            builder.sealedNames, builder.sealedPrefixes, EncryptingProducer::isSystemProperty);
    this.encryptor =
        new OutgoingEncryptor(
            builder.provider == null ? ClientServiceProvider.loadService() : builder.provider,
            builder.cipher,
            sealing,
            builder.maxBodySize,
            builder.maxPropertyBytes,
            builder.maxPropertyCount);
  }

  /** Starts a builder for a facade over {@code producer} that encrypts with {@code cipher}. */
  public static Builder builder(Producer producer, MqsealCipher cipher) {
    return new Builder(producer, cipher);
  }

  /** Returns the underlying producer. Messages sent on it directly are not encrypted. */
  public Producer getProducer() {
    return producer;
  }

  /**
   * Returns the encrypted copy that a send of {@code message} would hand to the producer, checked
   * against the limits like a send. Use it for send paths this facade does not cover.
   */
  public Message encrypt(Message message) throws MessageTooLargeException {
    return encryptor.encrypt(message);
  }

  /**
   * Returns the largest plaintext body that fits under {@link Builder#maxBodySize} once encrypted,
   * for a message with the topic and properties of {@code template} (its body is ignored). Exact
   * unless the cipher compresses bodies.
   */
  public int maxBodySize(Message template) {
    return encryptor.maxBodySize(template);
  }

  /** Encrypts {@code message} and sends it: normal, FIFO (message group) or delayed. */
  public SendReceipt send(Message message) throws ClientException {
    return producer.send(encryptor.encrypt(message));
  }

  /** Encrypts {@code message} and sends it as a half message of {@code transaction}. */
  public SendReceipt send(Message message, Transaction transaction) throws ClientException {
    return producer.send(encryptor.encrypt(message), transaction);
  }

  /**
   * Encrypts {@code message} on the calling thread and sends it asynchronously. When encryption or a
   * check fails, the returned future is already failed and nothing is sent.
   */
  public CompletableFuture<SendReceipt> sendAsync(Message message) {
    Message encrypted;
    try {
      encrypted = encryptor.encrypt(message);
    } catch (ClientException | RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return producer.sendAsync(encrypted);
  }

  /** Begins a transaction on the underlying producer. */
  public Transaction beginTransaction() throws ClientException {
    return producer.beginTransaction();
  }

  /** Closes the underlying producer; the cipher stays open. */
  @Override
  public void close() throws IOException {
    producer.close();
  }

  /**
   * Returns true for names the broker uses internally. The proxy rejects RocketMQ's reserved names
   * as user properties anyway, so only the {@code __} prefix of internal names is checked here.
   */
  private static boolean isSystemProperty(String name) {
    return name.startsWith("__");
  }

  /** Configures an {@link EncryptingProducer}. */
  public static final class Builder {
    private final Producer producer;
    private final MqsealCipher cipher;
    private final List<String> sealedNames = new ArrayList<>();
    private final List<String> sealedPrefixes = new ArrayList<>();
    private ClientServiceProvider provider;
    private int maxBodySize = DEFAULT_MAX_BODY_SIZE;
    private int maxPropertyBytes = DEFAULT_MAX_PROPERTY_BYTES;
    private int maxPropertyCount = DEFAULT_MAX_PROPERTY_COUNT;

    private Builder(Producer producer, MqsealCipher cipher) {
      this.producer = Objects.requireNonNull(producer, "producer");
      this.cipher = Objects.requireNonNull(cipher, "cipher");
    }

    /**
     * Seals the properties with these exact names: they travel inside the envelope and are restored
     * for the consumer. The consumer needs no configuration for that.
     */
    public Builder sealProperties(String... names) {
      sealedNames.addAll(Arrays.asList(names));
      return this;
    }

    /** Seals every property whose name starts with one of these prefixes. */
    public Builder sealPropertyPrefixes(String... prefixes) {
      sealedPrefixes.addAll(Arrays.asList(prefixes));
      return this;
    }

    /**
     * Sets the largest envelope in bytes; set it to the proxy's {@code maxMessageSize} when that
     * differs from the default 4 MiB.
     */
    public Builder maxBodySize(int bytes) {
      this.maxBodySize = requirePositive(bytes, "maxBodySize");
      return this;
    }

    /** Sets the proxy's {@code maxUserPropertySize} in bytes when it differs from 16 KiB. */
    public Builder maxPropertyBytes(int bytes) {
      this.maxPropertyBytes = requirePositive(bytes, "maxPropertyBytes");
      return this;
    }

    /** Sets the proxy's {@code userPropertyMaxNum} when it differs from 128. */
    public Builder maxPropertyCount(int count) {
      this.maxPropertyCount = requirePositive(count, "maxPropertyCount");
      return this;
    }

    /** Sets the provider whose message builder builds the encrypted copies. */
    public Builder provider(ClientServiceProvider provider) {
      this.provider = Objects.requireNonNull(provider, "provider");
      return this;
    }

    public EncryptingProducer build() {
      return new EncryptingProducer(this);
    }

    private static int requirePositive(int value, String name) {
      if (value <= 0) {
        throw new IllegalArgumentException(name + " must be positive, got " + value);
      }
      return value;
    }
  }
}
