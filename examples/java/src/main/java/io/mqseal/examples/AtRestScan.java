package io.mqseal.examples;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Scans regular files, and every regular file under directories, for marker strings: a prefix
 * followed by a fixed number of characters. Bytes are read as Latin-1, so any byte sequence is
 * searchable. A missing root raises an IOException.
 */
final class AtRestScan {
  private static final int CHUNK = 8 * 1024 * 1024;

  /** The markers found, and how much was read. */
  record Result(Set<String> found, long files, long bytes) {}

  private AtRestScan() {}

  static Result scan(List<Path> roots, String prefix, int idLength) throws IOException {
    Set<String> found = new HashSet<>();
    long files = 0;
    long bytes = 0;
    for (Path root : roots) {
      List<Path> paths = new ArrayList<>();
      try (Stream<Path> walk = Files.walk(root)) {
        walk.filter(Files::isRegularFile).forEach(paths::add);
      }
      for (Path path : paths) {
        files++;
        bytes += scanFile(path, prefix, idLength, found);
      }
    }
    return new Result(found, files, bytes);
  }

  /** Adds the markers in {@code path} to {@code found}; returns the bytes read. */
  private static long scanFile(Path path, String prefix, int idLength, Set<String> found)
      throws IOException {
    int markerLength = prefix.length() + idLength;
    byte[] buffer = new byte[CHUNK + markerLength];
    int carried = 0;
    long total = 0;
    try (InputStream in = Files.newInputStream(path)) {
      while (true) {
        int read = in.readNBytes(buffer, carried, CHUNK);
        total += read;
        int length = carried + read;
        String text = new String(buffer, 0, length, StandardCharsets.ISO_8859_1);
        for (int at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 1)) {
          if (at + markerLength <= length) {
            found.add(text.substring(at, at + markerLength));
          }
        }
        if (read < CHUNK) {
          return total;
        }
        // Keep the tail, so a marker that spans two chunks is still found.
        carried = Math.min(markerLength, length);
        System.arraycopy(buffer, length - carried, buffer, 0, carried);
      }
    }
  }
}
