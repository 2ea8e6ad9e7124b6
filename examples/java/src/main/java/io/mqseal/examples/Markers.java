package io.mqseal.examples;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** Unique marker strings with a common prefix, and the set of those handed out. */
final class Markers {
  /** Hex digits after the prefix. */
  static final int ID_LENGTH = 24;

  private static final SecureRandom RANDOM = new SecureRandom();

  private final String prefix;
  private final Set<String> issued = ConcurrentHashMap.newKeySet();

  Markers(String prefix) {
    this.prefix = prefix;
  }

  String prefix() {
    return prefix;
  }

  String next() {
    byte[] bytes = new byte[ID_LENGTH / 2];
    RANDOM.nextBytes(bytes);
    String marker = prefix + HexFormat.of().formatHex(bytes);
    issued.add(marker);
    return marker;
  }

  Set<String> issued() {
    return Set.copyOf(issued);
  }
}
