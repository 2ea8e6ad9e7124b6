package io.mqseal.rocketmq;

import io.mqseal.rocketmq.common.PropertySealing;
import java.util.Collection;
import java.util.Map;
import java.util.Set;
import org.apache.rocketmq.common.message.MessageConst;

/**
 * Selects the user properties that move into the envelope, by exact name or by prefix.
 *
 * <p>System properties ({@code TAGS}, {@code KEYS}, {@code DELAY} and every other name RocketMQ
 * reserves or uses internally, including every name starting with {@code __}) and mqseal's own
 * {@code mqseal-} properties are never sealed, so broker-side filtering, delays and transactions
 * keep working.
 */
final class SealedPropertySelector {
  /** Names RocketMQ 5.3.3 uses internally although they are missing from its reserved set. */
  private static final Set<String> SYSTEM_USED =
      Set.of(
          MessageConst.PROPERTY_INNER_NUM,
          MessageConst.PROPERTY_INNER_BASE,
          MessageConst.PROPERTY_CHECK_IMMUNITY_TIME_IN_SECONDS,
          MessageConst.PROPERTY_TRANSACTION_CHECK_TIMES,
          MessageConst.PROPERTY_FORWARD_QUEUE_ID,
          MessageConst.PROPERTY_REDIRECT,
          MessageConst.PROPERTY_INNER_MULTI_DISPATCH,
          MessageConst.PROPERTY_TRACE_CONTEXT);

  private final PropertySealing sealing;

  SealedPropertySelector(Collection<String> names, Collection<String> prefixes) {
    this.sealing = new PropertySealing(names, prefixes, SealedPropertySelector::isSystemProperty);
  }

  boolean isEmpty() {
    return sealing.isEmpty();
  }

  /** Returns the selected properties, sorted by name; {@code properties} is not changed. */
  Map<String, String> select(Map<String, String> properties) {
    return sealing.select(properties);
  }

  private static boolean isSystemProperty(String name) {
    return MessageConst.STRING_HASH_SET.contains(name)
        || SYSTEM_USED.contains(name)
        || name.startsWith("__");
  }
}
