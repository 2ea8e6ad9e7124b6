package io.mqseal.rocketmq;

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
 * Scans regular files, and every regular file under directories, for marker strings. Bytes are read
 * as Latin-1 so that any byte sequence is searchable. A missing root raises an IOException.
 */
final class AtRestScanner {
  private static final int CHUNK = 8 * 1024 * 1024;

  /** Markers a scan found, and how much it read. */
  record Result(Set<String> found, long files, long bytes) {}

  private AtRestScanner() {}

  /**
   * Returns the markers found under {@code roots}. Every marker is {@code prefix} followed by
   * {@code idLength} characters; {@code prefixes} lists the prefixes to look for.
   */
  static Result scan(List<Path> roots, List<String> prefixes, int idLength) throws IOException {
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
        bytes += scanFile(path, prefixes, idLength, found);
      }
    }
    return new Result(found, files, bytes);
  }

  private static long scanFile(Path path, List<String> prefixes, int idLength, Set<String> found)
      throws IOException {
    int longestPrefix = prefixes.stream().mapToInt(String::length).max().orElse(0);
    int overlap = longestPrefix + idLength;
    byte[] buffer = new byte[CHUNK + overlap];
    int carried = 0;
    long total = 0;
    try (InputStream in = Files.newInputStream(path)) {
      while (true) {
        int read = in.readNBytes(buffer, carried, CHUNK);
        total += read;
        int length = carried + read;
        String text = new String(buffer, 0, length, StandardCharsets.ISO_8859_1);
        for (String prefix : prefixes) {
          for (int at = text.indexOf(prefix); at >= 0; at = text.indexOf(prefix, at + 1)) {
            int end = at + prefix.length() + idLength;
            if (end <= length) {
              found.add(text.substring(at, end));
            }
          }
        }
        if (read < CHUNK) {
          return total;
        }
        carried = Math.min(overlap, length);
        System.arraycopy(buffer, length - carried, buffer, 0, carried);
      }
    }
  }
}
