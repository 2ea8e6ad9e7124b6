package io.mqseal;

import java.util.Map;

/** A decrypted message: the body, the sealed properties and facts from the envelope header. */
public final class Decrypted {
  private final byte[] body;
  private final Map<String, String> sealedProperties;
  private final String keyId;
  private final long keyVersion;
  private final String suite;
  private final boolean compressed;

  /** Called by the native library; {@code encodedProperties} is null when none were sealed. */
  Decrypted(
      byte[] body,
      byte[] encodedProperties,
      String keyId,
      long keyVersion,
      String suite,
      boolean compressed) {
    this.body = body;
    this.sealedProperties =
        encodedProperties == null ? Map.of() : Attributes.decode(encodedProperties);
    this.keyId = keyId;
    this.keyVersion = keyVersion;
    this.suite = suite;
    this.compressed = compressed;
  }

  /** Returns the plaintext body. The array is not copied: the caller owns it. */
  public byte[] body() {
    return body;
  }

  /** Returns the properties sealed inside the envelope, empty when there are none. */
  public Map<String, String> sealedProperties() {
    return sealedProperties;
  }

  /** Returns the key id of the wrapped key that recovered the data key. */
  public String keyId() {
    return keyId;
  }

  /** Returns the version of that key. */
  public long keyVersion() {
    return keyVersion;
  }

  /** Returns the cipher suite name, for example {@code aes-256-gcm}. */
  public String suite() {
    return suite;
  }

  /** Returns whether the body was compressed inside the envelope. */
  public boolean compressed() {
    return compressed;
  }

  /** Describes the header facts; never the body or the property values. */
  @Override
  public String toString() {
    return "Decrypted{bodyLength=" + body.length
        + ", sealedProperties=" + sealedProperties.keySet()
        + ", keyId=" + keyId
        + ", keyVersion=" + keyVersion
        + ", suite=" + suite
        + ", compressed=" + compressed
        + "}";
  }
}
