package io.mqseal.interop;

import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/** Counts distinct messages, by their interop properties, until the expected number arrived. */
final class Arrivals {
  private final Set<String> seen = new HashSet<>();
  private final CountDownLatch remaining;

  Arrivals(int expected) {
    this.remaining = new CountDownLatch(expected);
  }

  /** Counts {@code properties}' message unless a redelivery of it was counted before. */
  synchronized void add(Map<String, String> properties) {
    String key =
        String.join(
            "/",
            properties.getOrDefault(Variants.PRODUCER, "unknown"),
            properties.getOrDefault(Variants.SUITE, "unknown"),
            properties.getOrDefault(Variants.COMPRESSION, "unknown"),
            properties.getOrDefault(Variants.SEQUENCE, "-1"));
    if (seen.add(key)) {
      remaining.countDown();
    }
  }

  /** Waits until every expected message arrived; returns false after {@code seconds}. */
  boolean await(long seconds) throws InterruptedException {
    return remaining.await(seconds, TimeUnit.SECONDS);
  }

  long missing() {
    return remaining.getCount();
  }
}
