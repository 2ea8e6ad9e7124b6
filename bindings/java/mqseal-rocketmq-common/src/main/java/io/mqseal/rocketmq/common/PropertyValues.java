package io.mqseal.rocketmq.common;

import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Makes metadata values safe to carry as RocketMQ message properties.
 *
 * <p>The remoting protocol separates properties with 0x01 and 0x02 and the gRPC proxy rejects ISO
 * control characters, so values are limited to printable characters: every control character, and
 * {@code %} itself, is percent-encoded as UTF-8 bytes.
 */
public final class PropertyValues {
  private static final char[] HEX = "0123456789ABCDEF".toCharArray();

  private PropertyValues() {}

  /** Returns {@code value} with every control character and {@code %} percent-encoded. */
  public static String textSafe(String value) {
    if (value.chars().noneMatch(PropertyValues::needsEncoding)) {
      return value;
    }
    StringBuilder out = new StringBuilder(value.length() + 8);
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (!needsEncoding(c)) {
        out.append(c);
        continue;
      }
      for (byte b : String.valueOf(c).getBytes(StandardCharsets.UTF_8)) {
        out.append('%').append(HEX[(b >> 4) & 0xF]).append(HEX[b & 0xF]);
      }
    }
    return out.toString();
  }

  /** Joins values with commas after making each one text-safe. */
  public static String joinTextSafe(List<?> values) {
    return values.stream()
        .map(String::valueOf)
        .map(PropertyValues::textSafe)
        .collect(Collectors.joining(","));
  }

  private static boolean needsEncoding(int c) {
    return c == '%' || Character.isISOControl(c);
  }
}
