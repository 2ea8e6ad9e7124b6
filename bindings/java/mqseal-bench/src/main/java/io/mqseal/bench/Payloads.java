package io.mqseal.bench;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.SplittableRandom;

/** Message bodies and the context that every benchmarked library binds to each message. */
final class Payloads {
  /** Context bound to each message: mqseal context, AEAD associated data, ESDK context. */
  static final Map<String, String> CONTEXT = Map.of("topic", "orders");

  /** {@link #CONTEXT} as associated data for the plain AEAD libraries. */
  static final byte[] ASSOCIATED_DATA = "topic=orders".getBytes(StandardCharsets.UTF_8);

  private Payloads() {}

  /** Returns {@code size} pseudo-random bytes, the same for a given size. */
  static byte[] body(int size) {
    byte[] body = new byte[size];
    SplittableRandom random = new SplittableRandom(size);
    for (int i = 0; i < size; i++) {
      body[i] = (byte) random.nextInt(256);
    }
    return body;
  }
}
