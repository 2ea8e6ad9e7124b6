package io.mqseal;

import java.util.Map;

/**
 * The mapping from mqseal's stable numeric error codes to exception classes, names and
 * retryability. It is the only place in the Java library that interprets a code.
 *
 * <p>The codes come from the Rust core ({@code ErrorCode} in mqseal-core): blocks of 100 by
 * kind, never renumbered or reused. A code this table does not know (from a newer native
 * library) maps to the class of its block, so callers still get the right kind.
 */
public final class ErrorCodes {
  /** An argument is invalid. */
  public static final int INVALID_ARGUMENT = 100;
  /** A required argument was null. */
  public static final int NULL_ARGUMENT = 101;
  /** The output buffer is too small. */
  public static final int BUFFER_TOO_SMALL = 102;
  /** A configuration value is missing or invalid. */
  public static final int INVALID_CONFIG = 103;
  /** The cipher was closed. */
  public static final int HANDLE_CLOSED = 104;
  /** The envelope is structurally invalid. */
  public static final int MALFORMED_ENVELOPE = 200;
  /** The envelope ends before a field it declares. */
  public static final int TRUNCATED_ENVELOPE = 201;
  /** The input is not an mqseal envelope. */
  public static final int NOT_ENCRYPTED = 202;
  /** The envelope version is not supported. */
  public static final int UNSUPPORTED_VERSION = 300;
  /** The envelope's cipher suite is not supported. */
  public static final int UNSUPPORTED_SUITE = 301;
  /** The envelope uses an unsupported flag or feature. */
  public static final int UNSUPPORTED_FEATURE = 302;
  /** Authentication failed. */
  public static final int AUTHENTICATION_FAILED = 400;
  /** The data key does not match the envelope's key commitment. */
  public static final int KEY_COMMITMENT_MISMATCH = 401;
  /** No provider holds the key id. */
  public static final int KEY_NOT_FOUND = 500;
  /** The provider lacks the key version. */
  public static final int KEY_VERSION_NOT_FOUND = 501;
  /** The provider is unavailable. */
  public static final int PROVIDER_UNAVAILABLE = 600;
  /** The provider throttled the request. */
  public static final int PROVIDER_THROTTLED = 601;
  /** The provider did not answer in time. */
  public static final int PROVIDER_TIMEOUT = 602;
  /** The provider denied access. */
  public static final int PROVIDER_DENIED = 700;
  /** The key is disabled. */
  public static final int KEY_DISABLED = 701;
  /** The provider's response cannot be used. */
  public static final int PROVIDER_INVALID_RESPONSE = 702;
  /** A usage or size limit was exceeded. */
  public static final int USAGE_LIMIT_EXCEEDED = 800;
  /** An internal invariant failed. */
  public static final int INTERNAL = 900;
  /** A Rust panic was caught. */
  public static final int PANIC = 901;

  private static final Map<Integer, String> NAMES =
      Map.ofEntries(
          Map.entry(INVALID_ARGUMENT, "invalid_argument"),
          Map.entry(NULL_ARGUMENT, "null_argument"),
          Map.entry(BUFFER_TOO_SMALL, "buffer_too_small"),
          Map.entry(INVALID_CONFIG, "invalid_config"),
          Map.entry(HANDLE_CLOSED, "handle_closed"),
          Map.entry(MALFORMED_ENVELOPE, "malformed_envelope"),
          Map.entry(TRUNCATED_ENVELOPE, "truncated_envelope"),
          Map.entry(NOT_ENCRYPTED, "not_encrypted"),
          Map.entry(UNSUPPORTED_VERSION, "unsupported_version"),
          Map.entry(UNSUPPORTED_SUITE, "unsupported_suite"),
          Map.entry(UNSUPPORTED_FEATURE, "unsupported_feature"),
          Map.entry(AUTHENTICATION_FAILED, "authentication_failed"),
          Map.entry(KEY_COMMITMENT_MISMATCH, "key_commitment_mismatch"),
          Map.entry(KEY_NOT_FOUND, "key_not_found"),
          Map.entry(KEY_VERSION_NOT_FOUND, "key_version_not_found"),
          Map.entry(PROVIDER_UNAVAILABLE, "provider_unavailable"),
          Map.entry(PROVIDER_THROTTLED, "provider_throttled"),
          Map.entry(PROVIDER_TIMEOUT, "provider_timeout"),
          Map.entry(PROVIDER_DENIED, "provider_denied"),
          Map.entry(KEY_DISABLED, "key_disabled"),
          Map.entry(PROVIDER_INVALID_RESPONSE, "provider_invalid_response"),
          Map.entry(USAGE_LIMIT_EXCEEDED, "usage_limit_exceeded"),
          Map.entry(INTERNAL, "internal"),
          Map.entry(PANIC, "panic"));

  private ErrorCodes() {}

  /**
   * Returns the stable snake_case name of {@code code}, or {@code unknown_<code>} for a code this
   * library does not know.
   */
  public static String name(int code) {
    String name = NAMES.get(code);
    return name != null ? name : "unknown_" + code;
  }

  /**
   * Returns true for the codes after which the same call may succeed later without any change:
   * the provider was unavailable, throttled or timed out (600 to 602).
   */
  public static boolean isRetryable(int code) {
    return code >= PROVIDER_UNAVAILABLE && code <= PROVIDER_TIMEOUT;
  }

  /**
   * Creates the exception for an error code. The native library calls this to throw every
   * error, so Java code and native code map codes the same way.
   *
   * @param code the numeric code
   * @param message what failed and what to do
   * @param requiredSize for {@link #BUFFER_TOO_SMALL}, the required output size; otherwise -1
   * @return the exception, not thrown
   */
  public static MqsealException exceptionFor(int code, String message, long requiredSize) {
    switch (code) {
      case BUFFER_TOO_SMALL:
        return new BufferTooSmallException(message, requiredSize);
      case HANDLE_CLOSED:
        return new HandleClosedException(code, message);
      case NOT_ENCRYPTED:
        return new NotEncryptedException(code, message);
      default:
        break;
    }
    switch (code / 100) {
      case 1:
        return new InvalidArgumentException(code, message);
      case 2:
        return new MalformedEnvelopeException(code, message);
      case 3:
        return new UnsupportedEnvelopeException(code, message);
      case 4:
        return new AuthenticationFailedException(code, message);
      case 5:
        return new KeyNotFoundException(code, message);
      case 6:
        return new ProviderUnavailableException(code, message);
      case 7:
        return new ProviderDeniedException(code, message);
      case 8:
        return new UsageLimitExceededException(code, message);
      default:
        return new InternalException(code, message);
    }
  }

  /** Returns the exception for a null argument named {@code what}. */
  static InvalidArgumentException nullArgument(String what) {
    return new InvalidArgumentException(NULL_ARGUMENT, what + " is null; pass a value");
  }

  /** Returns the exception for an invalid argument. */
  static InvalidArgumentException invalidArgument(String message) {
    return new InvalidArgumentException(INVALID_ARGUMENT, message);
  }

  /** Returns the exception for an invalid configuration value. */
  static InvalidArgumentException invalidConfig(String message) {
    return new InvalidArgumentException(INVALID_CONFIG, message);
  }
}
