package io.mqseal;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The core's canonical encoding of string maps, used for the context and sealed properties.
 *
 * <p>Layout: a big-endian {@code u16} entry count, then per entry in ascending unsigned bytewise
 * order of the UTF-8 keys: a {@code u16} key length, the key, a {@code u16} value length and the
 * value. Keys are non-empty; keys and values are at most 65535 bytes of UTF-8. The native side
 * decodes strictly, so an encoding bug here fails loudly instead of changing the associated data.
 */
final class Attributes {
  static final int MAX_FIELD_LENGTH = 0xFFFF;
  static final int MAX_ENTRIES = 0xFFFF;

  private Attributes() {}

  /** Encodes {@code map}; returns null for a null or empty map, which the core treats alike. */
  static byte[] encode(Map<String, String> map, String what) {
    if (map == null || map.isEmpty()) {
      return null;
    }
    int count = map.size();
    if (count > MAX_ENTRIES) {
      throw ErrorCodes.invalidArgument(
          what + " has " + count + " entries; at most " + MAX_ENTRIES + " are allowed");
    }
    byte[][] keys = new byte[count][];
    byte[][] values = new byte[count][];
    int index = 0;
    int total = 2;
    for (Map.Entry<String, String> entry : map.entrySet()) {
      String key = entry.getKey();
      if (key == null || key.isEmpty()) {
        throw ErrorCodes.invalidArgument(what + " has a null or empty key; keys must be non-empty");
      }
      if (entry.getValue() == null) {
        throw ErrorCodes.invalidArgument(
            what + " entry " + quote(key) + " has a null value; use an empty string instead");
      }
      keys[index] = utf8(key, what + " key " + quote(key));
      values[index] = utf8(entry.getValue(), what + " value of " + quote(key));
      total += 4 + keys[index].length + values[index].length;
      index++;
    }

    byte[] out = new byte[total];
    putShort(out, 0, count);
    int position = 2;
    if (count == 1) {
      // The common case, a context of one entry such as the topic, needs no sort.
      putEntry(out, position, keys[0], values[0]);
      return out;
    }
    Integer[] order = new Integer[count];
    for (int i = 0; i < count; i++) {
      order[i] = i;
    }
    Arrays.sort(order, (a, b) -> Arrays.compareUnsigned(keys[a], keys[b]));
    for (int i : order) {
      position = putEntry(out, position, keys[i], values[i]);
    }
    return out;
  }

  /** Writes one entry at {@code position} and returns the position after it. */
  private static int putEntry(byte[] out, int position, byte[] key, byte[] value) {
    putShort(out, position, key.length);
    System.arraycopy(key, 0, out, position + 2, key.length);
    position += 2 + key.length;
    putShort(out, position, value.length);
    System.arraycopy(value, 0, out, position + 2, value.length);
    return position + 2 + value.length;
  }

  private static void putShort(byte[] out, int position, int value) {
    out[position] = (byte) (value >>> 8);
    out[position + 1] = (byte) value;
  }

  /** Decodes a canonical encoding produced by the native library into an unmodifiable map. */
  static Map<String, String> decode(byte[] encoded) {
    ByteBuffer in = ByteBuffer.wrap(encoded);
    int count = Short.toUnsignedInt(in.getShort());
    Map<String, String> map = new LinkedHashMap<>(Math.max(4, count * 2));
    for (int i = 0; i < count; i++) {
      String key = readString(in);
      map.put(key, readString(in));
    }
    return Collections.unmodifiableMap(map);
  }

  private static String readString(ByteBuffer in) {
    byte[] bytes = new byte[Short.toUnsignedInt(in.getShort())];
    in.get(bytes);
    return new String(bytes, StandardCharsets.UTF_8);
  }

  /**
   * Encodes {@code s} as UTF-8 and rejects unpaired surrogates, which {@link String#getBytes}
   * would silently replace with '?' and so let two different keys encode alike.
   */
  private static byte[] utf8(String s, String what) {
    byte[] bytes;
    if (hasSurrogate(s)) {
      try {
        ByteBuffer encoded =
            StandardCharsets.UTF_8
                .newEncoder()
                .onMalformedInput(CodingErrorAction.REPORT)
                .onUnmappableCharacter(CodingErrorAction.REPORT)
                .encode(CharBuffer.wrap(s));
        bytes = Arrays.copyOf(encoded.array(), encoded.limit());
      } catch (CharacterCodingException e) {
        throw ErrorCodes.invalidArgument(
            what + " contains an unpaired UTF-16 surrogate; pass valid Unicode text");
      }
    } else {
      bytes = s.getBytes(StandardCharsets.UTF_8);
    }
    if (bytes.length > MAX_FIELD_LENGTH) {
      throw ErrorCodes.invalidArgument(
          what + " is " + bytes.length + " bytes of UTF-8; at most " + MAX_FIELD_LENGTH
              + " are allowed");
    }
    return bytes;
  }

  private static boolean hasSurrogate(String s) {
    for (int i = 0; i < s.length(); i++) {
      if (Character.isSurrogate(s.charAt(i))) {
        return true;
      }
    }
    return false;
  }

  /** Quotes a key for an error message, cut to 64 characters. */
  private static String quote(String key) {
    return "\"" + (key.length() > 64 ? key.substring(0, 64) + "..." : key) + "\"";
  }
}
