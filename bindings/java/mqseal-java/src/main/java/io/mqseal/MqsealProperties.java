package io.mqseal;

/**
 * Names of the message properties that integrations set on encrypted messages. The values
 * equal the Rust core's table ({@code mqseal_core::properties}); a test checks them against
 * the native library.
 *
 * <p>Decryption never reads these properties: the envelope is self-describing. They are
 * copies for operators, broker-side filters and diagnostics on dead-lettered messages.
 */
public final class MqsealProperties {
  /** Prefix of every property mqseal sets. */
  public static final String PREFIX = "mqseal-";
  /** Envelope format version, for example {@code 1}. */
  public static final String VERSION = "mqseal-v";
  /** Cipher suite name, for example {@code aes-256-gcm}. */
  public static final String SUITE = "mqseal-suite";
  /** Key id of the first wrapped key. */
  public static final String KEY_ID = "mqseal-kid";
  /** Key version of the first wrapped key. */
  public static final String KEY_VERSION = "mqseal-kver";
  /** Logical topic the producer bound into the context. */
  public static final String TOPIC = "mqseal-topic";
  /** Comma-separated names of the properties sealed inside the envelope. */
  public static final String SEALED = "mqseal-sealed";
  /** On a dead-lettered message: the numeric error code. */
  public static final String ERROR_CODE = "mqseal-error-code";
  /** On a dead-lettered message: the error code name, for example {@code authentication_failed}. */
  public static final String ERROR_NAME = "mqseal-error";
  /** On a dead-lettered message: {@code true} when a retry could help. */
  public static final String ERROR_RETRYABLE = "mqseal-error-retryable";
  /** Context key under which integrations bind the logical topic. */
  public static final String CONTEXT_TOPIC = "topic";

  private MqsealProperties() {}
}
