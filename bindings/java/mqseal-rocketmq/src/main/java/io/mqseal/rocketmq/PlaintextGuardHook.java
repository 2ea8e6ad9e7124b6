package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import java.util.Arrays;
import java.util.Objects;
import java.util.Set;
import java.util.function.Predicate;
import org.apache.rocketmq.client.exception.MQClientException;
import org.apache.rocketmq.client.hook.CheckForbiddenContext;
import org.apache.rocketmq.client.hook.CheckForbiddenHook;
import org.apache.rocketmq.client.producer.DefaultMQProducer;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageBatch;
import org.apache.rocketmq.remoting.protocol.NamespaceUtil;
import org.apache.rocketmq.remoting.protocol.ResponseCode;

/**
 * Rejects sends of bodies that are not mqseal envelopes to topics that must be encrypted, as a
 * guard against code paths that bypass {@link EncryptingProducer}.
 *
 * <p>RocketMQ 5.3.3 runs {@code CheckForbiddenHook}s on every send attempt and aborts the send when
 * one throws. The hook checks each message of a batch. It runs after the client has compressed the
 * body, so a producer guarded by it must not compress: the facade sets {@code
 * compressMsgBodyOverHowmuch} to {@link Integer#MAX_VALUE}, and a compressed body is rejected
 * because it does not start with the envelope header. Topics are matched by their name without
 * namespace.
 *
 * <p>NOTE: after a rejection, RocketMQ 5.3.3's {@code sendDefaultImpl} logs the rejected message at
 * WARN in the client log, body bytes included (as a decimal array). The guard keeps plaintext off
 * the broker, not out of that log.
 */
public final class PlaintextGuardHook implements CheckForbiddenHook {
  private final Predicate<String> isEncryptedTopic;

  /** Guards the topics for which {@code isEncryptedTopic} returns true. */
  public PlaintextGuardHook(Predicate<String> isEncryptedTopic) {
    this.isEncryptedTopic = Objects.requireNonNull(isEncryptedTopic, "isEncryptedTopic");
  }

  /** Guards exactly these topics. */
  public static PlaintextGuardHook forTopics(String... topics) {
    Set<String> names = Set.copyOf(Arrays.asList(topics));
    return new PlaintextGuardHook(names::contains);
  }

  /** Registers {@code hook} on {@code producer} and returns it. */
  @SuppressWarnings("deprecation") // the only way to register the hook in RocketMQ 5.3.3
  public static PlaintextGuardHook register(DefaultMQProducer producer, PlaintextGuardHook hook) {
    producer.getDefaultMQProducerImpl().registerCheckForbiddenHook(hook);
    return hook;
  }

  @Override
  public String hookName() {
    return "mqseal-plaintext-guard";
  }

  @Override
  public void checkForbidden(CheckForbiddenContext context) throws MQClientException {
    Message message = context.getMessage();
    if (message == null) {
      return;
    }
    String topic = NamespaceUtil.withoutNamespace(message.getTopic());
    if (!isEncryptedTopic.test(topic)) {
      return;
    }
    if (message instanceof MessageBatch) {
      int index = 0;
      for (Message inner : (MessageBatch) message) {
        check(inner, topic, "message " + index + " of a batch");
        index++;
      }
    } else {
      check(message, topic, "a message");
    }
  }

  private static void check(Message message, String topic, String subject)
      throws MQClientException {
    byte[] body = message.getBody();
    if (body == null || !MqsealCipher.looksEncrypted(body)) {
      throw new MQClientException(
          ResponseCode.MESSAGE_ILLEGAL,
          "rejected "
              + subject
              + " to topic "
              + topic
              + ": its body is not an mqseal envelope and the topic must be encrypted; send it"
              + " through EncryptingProducer");
    }
  }
}
