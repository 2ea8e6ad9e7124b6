package io.mqseal.rocketmq;

import io.mqseal.MqsealCipher;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;
import org.apache.rocketmq.client.hook.ConsumeMessageContext;
import org.apache.rocketmq.client.hook.ConsumeMessageHook;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Counts what the decrypting listeners of a push consumer did with each message.
 *
 * <p>Register it with {@code consumer.registerConsumeMessageHook(hook)} next to a {@link
 * DecryptingMessageListenerConcurrently} or {@link DecryptingMessageListenerOrderly}. Every
 * consumed message lands in exactly one counter:
 *
 * <ul>
 *   <li>{@link #decrypted()}: decrypted and handed to the application's listener;
 *   <li>{@link #failed()}: could not be decrypted (see {@link #failedByError()});
 *   <li>{@link #unencrypted()}: the body is not an mqseal envelope and was handed over unchanged,
 *       because the listener allows unencrypted messages;
 *   <li>{@link #bypassed()}: no decrypting listener reported on it, for instance because the
 *       consumer's listener is not wrapped. Such messages reach the application as they are stored;
 *       {@link #bypassedEncrypted()} counts those that were envelopes.
 * </ul>
 *
 * A message that is not encrypted where encryption is required counts as failed with {@code
 * not_encrypted}. Redeliveries count again. Thread-safe.
 */
public final class DecryptionMetricsHook implements ConsumeMessageHook {
  private final LongAdder decrypted = new LongAdder();
  private final LongAdder failed = new LongAdder();
  private final LongAdder unencrypted = new LongAdder();
  private final LongAdder bypassed = new LongAdder();
  private final LongAdder bypassedEncrypted = new LongAdder();
  private final Map<String, LongAdder> failedByError = new ConcurrentHashMap<>();

  @Override
  public String hookName() {
    return "mqseal-decryption-metrics";
  }

  @Override
  public void consumeMessageBefore(ConsumeMessageContext context) {
    // A listener run without hooks (consumeMessageDirectly) may have left outcomes.
    DecryptionOutcomes.clear();
  }

  @Override
  public void consumeMessageAfter(ConsumeMessageContext context) {
    List<MessageExt> messages = context.getMsgList();
    if (messages == null) {
      return;
    }
    List<DecryptionOutcomes.Entry> entries = DecryptionOutcomes.take(messages);
    for (int i = 0; i < messages.size(); i++) {
      DecryptionOutcomes.Entry entry = entries.get(i);
      if (entry == null) {
        bypassed.increment();
        byte[] body = messages.get(i).getBody();
        if (body != null && MqsealCipher.looksEncrypted(body)) {
          bypassedEncrypted.increment();
        }
      } else {
        record(entry.outcome(), entry.errorName());
      }
    }
  }

  /**
   * Counts one outcome; used by {@link DecryptingLitePullConsumer}, which runs no hooks after
   * decrypting.
   */
  void record(DecryptionOutcomes.Outcome outcome, String errorName) {
    switch (outcome) {
      case DECRYPTED -> decrypted.increment();
      case UNENCRYPTED -> unencrypted.increment();
      case FAILED -> {
        failed.increment();
        failedByError.computeIfAbsent(errorName, name -> new LongAdder()).increment();
      }
      default -> throw new IllegalStateException("unknown decryption outcome " + outcome);
    }
  }

  public long decrypted() {
    return decrypted.sum();
  }

  public long failed() {
    return failed.sum();
  }

  public long unencrypted() {
    return unencrypted.sum();
  }

  public long bypassed() {
    return bypassed.sum();
  }

  public long bypassedEncrypted() {
    return bypassedEncrypted.sum();
  }

  /** Returns the failure counts by error code name, e.g. {@code authentication_failed}. */
  public Map<String, Long> failedByError() {
    Map<String, Long> snapshot = new TreeMap<>();
    failedByError.forEach((name, count) -> snapshot.put(name, count.sum()));
    return snapshot;
  }

  @Override
  public String toString() {
    return "decrypted="
        + decrypted()
        + " failed="
        + failed()
        + " unencrypted="
        + unencrypted()
        + " bypassed="
        + bypassed()
        + " failedByError="
        + failedByError();
  }
}
