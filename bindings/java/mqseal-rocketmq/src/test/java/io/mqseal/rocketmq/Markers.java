package io.mqseal.rocketmq;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Unique marker strings of the test run. Plaintext markers go into bodies and sealed properties
 * that mqseal encrypts, and must never appear at rest. Control markers go into plain properties and
 * deliberately unencrypted bodies, and must appear, which shows that the scan finds markers.
 */
final class Markers {
  static final String PLAINTEXT_PREFIX = "MQSEAL-PLAIN-";
  static final String CONTROL_PREFIX = "MQSEAL-CONTROL-";

  /** Hex digits after the prefix. */
  static final int ID_LENGTH = 24;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<String> PLAINTEXT = ConcurrentHashMap.newKeySet();
  private static final Set<String> CONTROL = ConcurrentHashMap.newKeySet();

  private Markers() {}

  static String plaintext() {
    String marker = PLAINTEXT_PREFIX + id();
    PLAINTEXT.add(marker);
    return marker;
  }

  static String control() {
    String marker = CONTROL_PREFIX + id();
    CONTROL.add(marker);
    return marker;
  }

  /** Forgets a plaintext marker whose message never reached the broker. */
  static void unregisterPlaintext(String marker) {
    PLAINTEXT.remove(marker);
  }

  /**
   * Turns a plaintext marker into a control marker, for a body the test sent unencrypted on
   * purpose: finding it shows that the scan reads message bodies, not only properties.
   */
  static void sentUnencrypted(String marker) {
    PLAINTEXT.remove(marker);
    CONTROL.add(marker);
  }

  static Set<String> plaintextMarkers() {
    return Set.copyOf(PLAINTEXT);
  }

  static Set<String> controlMarkers() {
    return Set.copyOf(CONTROL);
  }

  private static String id() {
    byte[] bytes = new byte[ID_LENGTH / 2];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
