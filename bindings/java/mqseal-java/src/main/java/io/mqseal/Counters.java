package io.mqseal;

/** A point-in-time copy of a cipher's operation counters. */
public final class Counters {
  /**
   * Number of counters the native library returns, in the order of the core's {@code
   * CounterSnapshot::fields()}.
   */
  static final int COUNT = 18;

  private final long encrypted;
  private final long decrypted;
  private final long decryptFailures;
  private final long cacheHits;
  private final long cacheMisses;
  private final long providerCalls;
  private final long providerFailures;
  private final long dataKeysCreated;
  private final long providerAttempts;
  private final long providerRetries;
  private final long providerTransientFailures;
  private final long providerPermanentFailures;
  private final long providerLatencyMicrosTotal;
  private final long providerLatencyMicrosMax;
  private final long breakerOpens;
  private final long breakerRejections;
  private final long negativeCacheHits;
  private final long rotations;

  /** Creates counters from the native order: the core's {@code CounterSnapshot::fields()}. */
  Counters(long[] values) {
    if (values.length != COUNT) {
      throw new InternalException(
          ErrorCodes.INTERNAL,
          "the native library returned " + values.length + " counters; "
              + COUNT + " were expected");
    }
    this.encrypted = values[0];
    this.decrypted = values[1];
    this.decryptFailures = values[2];
    this.cacheHits = values[3];
    this.cacheMisses = values[4];
    this.providerCalls = values[5];
    this.providerFailures = values[6];
    this.dataKeysCreated = values[7];
    this.providerAttempts = values[8];
    this.providerRetries = values[9];
    this.providerTransientFailures = values[10];
    this.providerPermanentFailures = values[11];
    this.providerLatencyMicrosTotal = values[12];
    this.providerLatencyMicrosMax = values[13];
    this.breakerOpens = values[14];
    this.breakerRejections = values[15];
    this.negativeCacheHits = values[16];
    this.rotations = values[17];
  }

  /** Returns the number of messages encrypted. */
  public long encrypted() {
    return encrypted;
  }

  /** Returns the number of messages decrypted. */
  public long decrypted() {
    return decrypted;
  }

  /** Returns the number of decryptions that failed, for any reason. */
  public long decryptFailures() {
    return decryptFailures;
  }

  /** Returns the number of data-key lookups served from the cache, producer and consumer. */
  public long cacheHits() {
    return cacheHits;
  }

  /** Returns the number of data-key lookups that needed the key provider. */
  public long cacheMisses() {
    return cacheMisses;
  }

  /**
   * Returns the number of key provider calls (generate, wrap, unwrap), each counted once
   * whatever its retries.
   */
  public long providerCalls() {
    return providerCalls;
  }

  /** Returns the number of key provider calls that failed after their retries. */
  public long providerFailures() {
    return providerFailures;
  }

  /** Returns the number of data keys created for encryption. */
  public long dataKeysCreated() {
    return dataKeysCreated;
  }

  /** Returns the number of requests sent to key providers, retries and rotation checks included. */
  public long providerAttempts() {
    return providerAttempts;
  }

  /** Returns the number of retries of transiently failed provider requests. */
  public long providerRetries() {
    return providerRetries;
  }

  /**
   * Returns the number of provider requests that failed transiently (unavailable, throttled,
   * timed out).
   */
  public long providerTransientFailures() {
    return providerTransientFailures;
  }

  /**
   * Returns the number of provider requests that failed permanently (denied, disabled, not
   * found, invalid).
   */
  public long providerPermanentFailures() {
    return providerPermanentFailures;
  }

  /** Returns the total time of provider requests, in microseconds. */
  public long providerLatencyMicrosTotal() {
    return providerLatencyMicrosTotal;
  }

  /** Returns the longest provider request, in microseconds. */
  public long providerLatencyMicrosMax() {
    return providerLatencyMicrosMax;
  }

  /** Returns the number of times a provider's circuit breaker opened. */
  public long breakerOpens() {
    return breakerOpens;
  }

  /** Returns the number of calls rejected at once because a circuit breaker was open. */
  public long breakerRejections() {
    return breakerRejections;
  }

  /** Returns the number of unwraps answered from the negative cache of unusable wrapped keys. */
  public long negativeCacheHits() {
    return negativeCacheHits;
  }

  /**
   * Returns the number of producer data keys replaced because a rotation check found a new
   * primary KEK.
   */
  public long rotations() {
    return rotations;
  }

  @Override
  public String toString() {
    return "Counters{encrypted=" + encrypted
        + ", decrypted=" + decrypted
        + ", decryptFailures=" + decryptFailures
        + ", cacheHits=" + cacheHits
        + ", cacheMisses=" + cacheMisses
        + ", providerCalls=" + providerCalls
        + ", providerFailures=" + providerFailures
        + ", dataKeysCreated=" + dataKeysCreated
        + ", providerAttempts=" + providerAttempts
        + ", providerRetries=" + providerRetries
        + ", providerTransientFailures=" + providerTransientFailures
        + ", providerPermanentFailures=" + providerPermanentFailures
        + ", providerLatencyMicrosTotal=" + providerLatencyMicrosTotal
        + ", providerLatencyMicrosMax=" + providerLatencyMicrosMax
        + ", breakerOpens=" + breakerOpens
        + ", breakerRejections=" + breakerRejections
        + ", negativeCacheHits=" + negativeCacheHits
        + ", rotations=" + rotations
        + "}";
  }
}
