package io.mqseal;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;

/**
 * A native pointer that is freed exactly once, and never while a call uses it.
 *
 * <p>{@code state} packs a closed flag (the sign bit) and the number of calls in flight (the
 * other bits). {@link #acquire()} counts a call in unless the handle is closed; {@link
 * #release()} counts it out. {@link #close()} sets the flag; whichever of {@code close} and the
 * last {@code release} leaves the state at exactly "closed, no call in flight" frees the
 * pointer. After the flag is set the count only falls, so that state is reached once.
 */
final class NativeHandle {
  private static final long CLOSED = Long.MIN_VALUE;

  private final long pointer;
  private final LongConsumer free;
  private final AtomicLong state = new AtomicLong();

  NativeHandle(long pointer, LongConsumer free) {
    this.pointer = pointer;
    this.free = free;
  }

  /**
   * Counts a call in and returns the pointer. Every successful call must be paired with {@link
   * #release()} in a {@code finally} block.
   *
   * @throws HandleClosedException when the handle was closed
   */
  long acquire() {
    while (true) {
      long current = state.get();
      if ((current & CLOSED) != 0) {
        throw new HandleClosedException(
            ErrorCodes.HANDLE_CLOSED,
            "the cipher is closed; create a new MqsealCipher to encrypt or decrypt");
      }
      if (state.compareAndSet(current, current + 1)) {
        return pointer;
      }
    }
  }

  /** Counts a call out, and frees the pointer when it was the last call after {@link #close}. */
  void release() {
    if (state.decrementAndGet() == CLOSED) {
      free.accept(pointer);
    }
  }

  /**
   * Closes the handle. The pointer is freed now when no call is in flight, otherwise by the
   * last call to finish. Returns false when the handle was already closed.
   */
  boolean close() {
    while (true) {
      long current = state.get();
      if ((current & CLOSED) != 0) {
        return false;
      }
      if (state.compareAndSet(current, current | CLOSED)) {
        if (current == 0) {
          free.accept(pointer);
        }
        return true;
      }
    }
  }

  /** Returns true once {@link #close()} has been called. */
  boolean isClosed() {
    return (state.get() & CLOSED) != 0;
  }
}
