package io.mqseal.rocketmq.common.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
public final class AtRestScanner {
  private static final int CHUNK = 8 * 1024 * 1024;

  /** Markers a scan found, and how much it read. */
  public record Result(Set<String> found, long files, long bytes) {}

  private AtRestScanner() {}

  /**
   * Returns the markers found under {@code roots}. Every marker is {@code prefix} followed by
   * {@code idLength} characters; {@code prefixes} lists the prefixes to look for.
   */
  public static Result scan(List<Path> roots, List<String> prefixes, int idLength) throws IOException {
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

  /**
   * Scans {@code roots} for the markers of {@link Markers} and asserts that no plaintext marker and
   * every control marker is found. Prints what it read, for the test log.
   */
  public static void assertNoPlaintext(List<Path> roots) throws IOException {
    Set<String> plaintext = Markers.plaintextMarkers();
    Set<String> control = Markers.controlMarkers();
    assertFalse(plaintext.isEmpty(), "no test registered plaintext markers; run the whole suite");
    assertFalse(control.isEmpty(), "no test registered control markers; run the whole suite");
    Result result =
        scan(roots, List.of(Markers.PLAINTEXT_PREFIX, Markers.CONTROL_PREFIX), Markers.ID_LENGTH);

    Set<String> leaked = new HashSet<>(result.found());
    leaked.retainAll(plaintext);
    Set<String> controlFound = new HashSet<>(result.found());
    controlFound.retainAll(control);
    System.out.printf(
        "at-rest scan: %d files, %d bytes under %s; plaintext markers %d registered, %d found;"
            + " control markers %d registered, %d found%n",
        result.files(),
        result.bytes(),
        roots,
        plaintext.size(),
        leaked.size(),
        control.size(),
        controlFound.size());
    assertTrue(result.bytes() > 0, "the scan read nothing under " + roots);
    assertEquals(Set.of(), leaked, "plaintext markers found at rest under " + roots);
    assertEquals(
        control,
        controlFound,
        "control markers in plain properties must be found; scanned "
            + result.files()
            + " files, "
            + result.bytes()
            + " bytes");
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
