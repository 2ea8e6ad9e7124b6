package io.mqseal.rocketmq;

import io.mqseal.MqsealProperties;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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

  private final Set<String> names;
  private final List<String> prefixes;

  SealedPropertySelector(Collection<String> names, Collection<String> prefixes) {
    for (String name : names) {
      checkSealable(name, "property name");
    }
    for (String prefix : prefixes) {
      checkSealable(prefix, "property prefix");
    }
    this.names = Set.copyOf(names);
    this.prefixes = new ArrayList<>(prefixes);
  }

  boolean isEmpty() {
    return names.isEmpty() && prefixes.isEmpty();
  }

  /** Returns the selected properties, sorted by name; {@code properties} is not changed. */
  Map<String, String> select(Map<String, String> properties) {
    Map<String, String> sealed = new TreeMap<>();
    if (properties == null || isEmpty()) {
      return sealed;
    }
    for (Map.Entry<String, String> entry : properties.entrySet()) {
      if (isSelected(entry.getKey())) {
        sealed.put(entry.getKey(), entry.getValue());
      }
    }
    return sealed;
  }

  private boolean isSelected(String name) {
    if (isSystemProperty(name) || name.startsWith(MqsealProperties.PREFIX)) {
      return false;
    }
    if (names.contains(name)) {
      return true;
    }
    for (String prefix : prefixes) {
      if (name.startsWith(prefix)) {
        return true;
      }
    }
    return false;
  }

  private static boolean isSystemProperty(String name) {
    return MessageConst.STRING_HASH_SET.contains(name)
        || SYSTEM_USED.contains(name)
        || name.startsWith("__");
  }

  private static void checkSealable(String value, String kind) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("sealed " + kind + " is empty; give a non-empty name");
    }
    if (isSystemProperty(value)) {
      throw new IllegalArgumentException(
          "sealed "
              + kind
              + " '"
              + value
              + "' is a RocketMQ system property, which must stay in plain text; choose a user"
              + " property");
    }
    if (value.startsWith(MqsealProperties.PREFIX)) {
      throw new IllegalArgumentException(
          "sealed "
              + kind
              + " '"
              + value
              + "' starts with '"
              + MqsealProperties.PREFIX
              + "', which mqseal reserves for its metadata");
    }
  }
}
