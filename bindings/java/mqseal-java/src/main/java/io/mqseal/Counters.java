package io.mqseal;

/** A point-in-time copy of a cipher's operation counters. */
public final class Counters {
  private final long encrypted;
  private final long decrypted;
  private final long decryptFailures;
  private final long cacheHits;
  private final long cacheMisses;
  private final long providerCalls;
  private final long providerFailures;
  private final long dataKeysCreated;

  /** Creates counters from the native order: the core's {@code CounterSnapshot::fields()}. */
  Counters(long[] values) {
    if (values.length != 8) {
      throw new InternalException(
          ErrorCodes.INTERNAL,
          "the native library returned " + values.length + " counters; 8 were expected");
    }
    this.encrypted = values[0];
    this.decrypted = values[1];
    this.decryptFailures = values[2];
    this.cacheHits = values[3];
    this.cacheMisses = values[4];
    this.providerCalls = values[5];
    this.providerFailures = values[6];
    this.dataKeysCreated = values[7];
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

  /** Returns the number of key provider calls (generate, wrap, unwrap). */
  public long providerCalls() {
    return providerCalls;
  }

  /** Returns the number of key provider calls that failed. */
  public long providerFailures() {
    return providerFailures;
  }

  /** Returns the number of data keys created for encryption. */
  public long dataKeysCreated() {
    return dataKeysCreated;
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
        + "}";
  }
}
