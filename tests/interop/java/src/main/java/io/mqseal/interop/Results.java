package io.mqseal.interop;

import io.mqseal.EnvelopeInfo;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;

/**
 * Writes one JSON line per consumed message (the format tests/interop/interop.py summarizes) and
 * counts distinct messages until the expected number arrived.
 */
final class Results implements AutoCloseable {
  private final String consumer;
  private final BufferedWriter out;
  private final Arrivals arrivals;

  Results(String consumer, Path file, int expected) throws IOException {
    this.consumer = consumer;
    this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    this.arrivals = new Arrivals(expected);
  }

  /**
   * Checks one decrypted message against its interop properties and records the outcome.
   *
   * @param properties the received message's plain properties
   * @param body the decrypted body, or null when decryption failed
   * @param failure why decryption failed, or null
   * @param header the received envelope's header, or null when the body was no envelope
   */
  synchronized void record(
      Map<String, String> properties, byte[] body, String failure, EnvelopeInfo header) {
    String headerSuite = header == null ? "none" : header.suite();
    boolean headerCompressed = header != null && header.compressed();
    String producer = properties.getOrDefault(Variants.PRODUCER, "unknown");
    String suite = properties.getOrDefault(Variants.SUITE, "unknown");
    String compression = properties.getOrDefault(Variants.COMPRESSION, "unknown");
    String sequence = properties.getOrDefault(Variants.SEQUENCE, "-1");
    String problem = failure;
    if (problem == null) {
      problem = check(properties, body, producer, suite, compression, sequence);
    }
    if (problem == null && !suite.equals(headerSuite)) {
      problem = "the envelope header names suite " + headerSuite;
    }
    if (problem == null && headerCompressed != "on".equals(compression)) {
      problem = "the envelope header has compressed=" + headerCompressed;
    }
    write(producer, suite, compression, sequence, problem);
    arrivals.add(properties);
  }

  private static String check(
      Map<String, String> properties,
      byte[] body,
      String producer,
      String suite,
      String compression,
      String sequence) {
    String expectedHash = properties.get(Variants.SHA256);
    if (expectedHash == null || !expectedHash.equals(Variants.sha256(body))) {
      return "the SHA-256 of the decrypted body differs from " + Variants.SHA256;
    }
    byte[] expectedBody;
    try {
      expectedBody = Variants.body(producer, suite, compression, Integer.parseInt(sequence));
    } catch (NumberFormatException e) {
      return "invalid " + Variants.SEQUENCE + " '" + sequence + "'";
    }
    if (!Arrays.equals(expectedBody, body)) {
      return "the decrypted body is not the body of this variant";
    }
    return null;
  }

  private void write(
      String producer, String suite, String compression, String sequence, String problem) {
    try {
      out.write(
          String.format(
              "{\"consumer\": \"%s\", \"producer\": \"%s\", \"suite\": \"%s\","
                  + " \"compression\": \"%s\", \"seq\": %s, \"ok\": %s, \"problem\": \"%s\"}%n",
              consumer,
              jsonText(producer),
              jsonText(suite),
              jsonText(compression),
              sequence.matches("-?[0-9]{1,9}") ? sequence : "-1",
              problem == null,
              problem == null ? "" : jsonText(problem)));
      out.flush();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Keeps printable ASCII other than quotes and backslashes, so the line stays valid JSON. */
  private static String jsonText(String value) {
    return value.replaceAll("[^ -~]|[\"\\\\]", "?");
  }

  Arrivals arrivals() {
    return arrivals;
  }

  @Override
  public synchronized void close() throws IOException {
    out.close();
  }
}
