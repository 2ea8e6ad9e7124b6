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

  /**
   * Number of 1 KiB messages that each library encrypts and decrypts before a trial. Without
   * it a trial of 4 MiB messages runs too few calls for the JIT to compile the JDK's AES-GCM
   * intrinsics, and the JDK-based libraries would be measured in the interpreter.
   */
  static final int WARM_UP_MESSAGES = 50_000;

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
