package io.mqseal;

import java.util.Arrays;
import java.util.List;
import java.util.Map;

/** Header fields of an envelope, read without any key. Contains no key material. */
public final class EnvelopeInfo {
  private final int version;
  private final String suite;
  private final List<String> keyIds;
  private final List<Long> keyVersions;
  private final boolean compressed;
  private final boolean sealedProperties;
  private final Map<String, String> storedContext;
  private final long sequence;
  private final int headerLength;
  private final int payloadLength;

  /** Called by the native library; {@code encodedContext} is null when no context is stored. */
  EnvelopeInfo(
      int version,
      String suite,
      String[] keyIds,
      long[] keyVersions,
      boolean compressed,
      boolean sealedProperties,
      byte[] encodedContext,
      long sequence,
      int headerLength,
      int payloadLength) {
    this.version = version;
    this.suite = suite;
    this.keyIds = List.of(keyIds);
    this.keyVersions = Arrays.stream(keyVersions).boxed().toList();
    this.compressed = compressed;
    this.sealedProperties = sealedProperties;
    this.storedContext = encodedContext == null ? Map.of() : Attributes.decode(encodedContext);
    this.sequence = sequence;
    this.headerLength = headerLength;
    this.payloadLength = payloadLength;
  }

  /** Returns the envelope format version. */
  public int version() {
    return version;
  }

  /** Returns the cipher suite name, for example {@code aes-256-gcm}. */
  public String suite() {
    return suite;
  }

  /** Returns the key ids of the wrapped data keys, in envelope order. */
  public List<String> keyIds() {
    return keyIds;
  }

  /** Returns the key versions of the wrapped data keys, in the order of {@link #keyIds()}. */
  public List<Long> keyVersions() {
    return keyVersions;
  }

  /** Returns whether the body was compressed before encryption. */
  public boolean compressed() {
    return compressed;
  }

  /** Returns whether application properties are sealed inside the envelope. */
  public boolean sealedProperties() {
    return sealedProperties;
  }

  /** Returns the context stored in the header, empty when the producer did not store it. */
  public Map<String, String> storedContext() {
    return storedContext;
  }

  /** Returns the sequence number that forms the nonce. */
  public long sequence() {
    return sequence;
  }

  /** Returns the header length in bytes. */
  public int headerLength() {
    return headerLength;
  }

  /** Returns the encrypted payload length in bytes, without the authentication tag. */
  public int payloadLength() {
    return payloadLength;
  }

  @Override
  public String toString() {
    return "EnvelopeInfo{version=" + version
        + ", suite=" + suite
        + ", keyIds=" + keyIds
        + ", keyVersions=" + keyVersions
        + ", compressed=" + compressed
        + ", sealedProperties=" + sealedProperties
        + ", storedContext=" + storedContext.keySet()
        + ", sequence=" + sequence
        + ", headerLength=" + headerLength
        + ", payloadLength=" + payloadLength
        + "}";
  }
}
