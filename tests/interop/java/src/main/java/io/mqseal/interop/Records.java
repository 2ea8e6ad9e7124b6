package io.mqseal.interop;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Record files shared with the C leg (tests/interop/mqseal_interop.c): each record is a 4-byte
 * big-endian length followed by that many bytes. Property records hold "name=value" lines.
 */
final class Records {
  private Records() {}

  /** Reads one record, or returns null at a clean end of the stream. */
  static byte[] read(DataInputStream in) throws IOException {
    int length;
    try {
      length = in.readInt();
    } catch (EOFException e) {
      return null;
    }
    if (length < 0) {
      throw new IOException("invalid record length " + Integer.toUnsignedString(length));
    }
    byte[] data = new byte[length];
    in.readFully(data);
    return data;
  }

  static void write(DataOutputStream out, byte[] data) throws IOException {
    out.writeInt(data.length);
    out.write(data);
  }

  /** Parses "name=value" lines; a line without '=' is an error. */
  static Map<String, String> properties(byte[] record) throws IOException {
    Map<String, String> properties = new LinkedHashMap<>();
    for (String line : new String(record, StandardCharsets.UTF_8).split("\n")) {
      if (line.isEmpty()) {
        continue;
      }
      int separator = line.indexOf('=');
      if (separator <= 0) {
        throw new IOException("invalid property line '" + line + "' (expected name=value)");
      }
      properties.put(line.substring(0, separator), line.substring(separator + 1));
    }
    return properties;
  }

  static byte[] propertyRecord(Map<String, String> properties) {
    StringBuilder text = new StringBuilder();
    properties.forEach((name, value) -> text.append(name).append('=').append(value).append('\n'));
    return text.toString().getBytes(StandardCharsets.UTF_8);
  }
}
