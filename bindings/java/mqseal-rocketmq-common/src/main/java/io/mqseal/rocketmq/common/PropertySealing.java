package io.mqseal.rocketmq.common;

import io.mqseal.MqsealProperties;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * Selects the user properties that move into the envelope, by exact name or by prefix.
 *
 * <p>Names that the client's {@code systemProperty} predicate matches, and mqseal's own {@code
 * mqseal-} properties, are never sealed, so broker-side filtering, delays and transactions keep
 * working. Naming one of them in the configuration raises {@link IllegalArgumentException}.
 */
public final class PropertySealing {
  private final Set<String> names;
  private final List<String> prefixes;
  private final Predicate<String> systemProperty;

  /**
   * Creates a selector.
   *
   * @param names exact property names to seal
   * @param prefixes name prefixes to seal
   * @param systemProperty matches the names the RocketMQ client or broker reserves
   * @throws IllegalArgumentException when a name or prefix is empty, a system property, or starts
   *     with {@code mqseal-}
   */
  public PropertySealing(
      Collection<String> names, Collection<String> prefixes, Predicate<String> systemProperty) {
    this.systemProperty = systemProperty;
    for (String name : names) {
      checkSealable(name, "property name");
    }
    for (String prefix : prefixes) {
      checkSealable(prefix, "property prefix");
    }
    this.names = Set.copyOf(names);
    this.prefixes = new ArrayList<>(prefixes);
  }

  /** Returns true when no name and no prefix is configured. */
  public boolean isEmpty() {
    return names.isEmpty() && prefixes.isEmpty();
  }

  /** Returns the selected properties, sorted by name; {@code properties} is not changed. */
  public Map<String, String> select(Map<String, String> properties) {
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
    if (systemProperty.test(name) || name.startsWith(MqsealProperties.PREFIX)) {
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

  private void checkSealable(String value, String kind) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException("sealed " + kind + " is empty; give a non-empty name");
    }
    if (systemProperty.test(value)) {
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
