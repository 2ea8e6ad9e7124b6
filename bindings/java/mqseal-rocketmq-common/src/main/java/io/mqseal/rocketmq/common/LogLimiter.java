package io.mqseal.rocketmq.common;

/**
 * Lets at most {@code burst} log lines through per interval and counts the ones it holds back, so
 * that an outage of the key provider or a topic full of undecryptable messages does not flood the
 * log with one line per message.
 */
public final class LogLimiter {
  private final long intervalNanos;
  private final int burst;
  private boolean started;
  private long windowStart;
  private int used;
  private long suppressed;

  public LogLimiter(long intervalMillis, int burst) {
    this.intervalNanos = intervalMillis * 1_000_000L;
    this.burst = burst;
  }

  /**
   * Returns -1 when this event must not be logged, otherwise the number of events held back since
   * the last one that was logged.
   */
  public synchronized long tryAcquire() {
    long now = System.nanoTime();
    if (!started || now - windowStart >= intervalNanos) {
      started = true;
      windowStart = now;
      used = 0;
    }
    if (used < burst) {
      used++;
      long heldBack = suppressed;
      suppressed = 0;
      return heldBack;
    }
    suppressed++;
    return -1;
  }
}
