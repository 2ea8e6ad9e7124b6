package io.mqseal.rocketmq;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.common.message.MessageExt;

/**
 * Outcomes of the last batch a decrypting listener handled on the current thread.
 *
 * <p>The push consumer runs the hooks' {@code consumeMessageAfter} on the thread that ran the
 * listener, right after it (RocketMQ 5.3.3), so {@link DecryptionMetricsHook} reads the outcomes
 * there. Each listener call replaces the previous batch's outcomes, so at most one batch is
 * retained per consume thread.
 */
final class DecryptionOutcomes {
  /** Result of decrypting one message. */
  enum Outcome {
    DECRYPTED,
    UNENCRYPTED,
    FAILED
  }

  /** One message's outcome and, for failures, the error code name. */
  record Entry(Outcome outcome, String errorName) {}

  private static final ThreadLocal<Map<MessageExt, Entry>> CURRENT = new ThreadLocal<>();

  private DecryptionOutcomes() {}

  /** Starts recording a new batch on this thread. */
  static void begin() {
    CURRENT.set(new IdentityHashMap<>());
  }

  static void record(MessageExt message, Outcome outcome, String errorName) {
    Map<MessageExt, Entry> batch = CURRENT.get();
    if (batch != null) {
      batch.put(message, new Entry(outcome, errorName));
    }
  }

  /** Returns and removes the outcomes of {@code messages}, null where none was recorded. */
  static List<Entry> take(List<MessageExt> messages) {
    Map<MessageExt, Entry> batch = CURRENT.get();
    CURRENT.remove();
    List<Entry> entries = new ArrayList<>(messages.size());
    for (MessageExt message : messages) {
      entries.add(batch == null ? null : batch.get(message));
    }
    return entries;
  }

  static void clear() {
    CURRENT.remove();
  }
}
