package io.mqseal.rocketmq.common.testing;

import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Unique marker strings of the test run. Plaintext markers go into bodies and sealed properties
 * that mqseal encrypts, and must never appear at rest. Control markers go into plain properties and
 * deliberately unencrypted bodies, and must appear, which shows that the scan finds markers.
 */
public final class Markers {
  public static final String PLAINTEXT_PREFIX = "MQSEAL-PLAIN-";
  public static final String CONTROL_PREFIX = "MQSEAL-CONTROL-";

  /** Hex digits after the prefix. */
  public static final int ID_LENGTH = 24;

  private static final SecureRandom RANDOM = new SecureRandom();
  private static final Set<String> PLAINTEXT = ConcurrentHashMap.newKeySet();
  private static final Set<String> CONTROL = ConcurrentHashMap.newKeySet();

  private Markers() {}

  public static String plaintext() {
    String marker = PLAINTEXT_PREFIX + id();
    PLAINTEXT.add(marker);
    return marker;
  }

  public static String control() {
    String marker = CONTROL_PREFIX + id();
    CONTROL.add(marker);
    return marker;
  }

  /** Forgets a plaintext marker whose message never reached the broker. */
  public static void unregisterPlaintext(String marker) {
    PLAINTEXT.remove(marker);
  }

  /**
   * Turns a plaintext marker into a control marker, for a body the test sent unencrypted on
   * purpose: finding it shows that the scan reads message bodies, not only properties.
   */
  public static void sentUnencrypted(String marker) {
    PLAINTEXT.remove(marker);
    CONTROL.add(marker);
  }

  public static Set<String> plaintextMarkers() {
    return Set.copyOf(PLAINTEXT);
  }

  public static Set<String> controlMarkers() {
    return Set.copyOf(CONTROL);
  }

  private static String id() {
    byte[] bytes = new byte[ID_LENGTH / 2];
    RANDOM.nextBytes(bytes);
    return HexFormat.of().formatHex(bytes);
  }
}
