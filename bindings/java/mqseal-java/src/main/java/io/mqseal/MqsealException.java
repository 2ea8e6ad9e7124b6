package io.mqseal;

/**
 * Base class of every mqseal error. Carries the stable numeric code shared by the Rust core,
 * the C ABI and every binding; subclasses group the codes by kind.
 *
 * <p>Messages say what failed, on which value, and what to do. They never contain key bytes
 * or message bodies.
 */
public class MqsealException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final int code;

  /**
   * Creates an exception with a stable error code.
   *
   * @param code the numeric code, see {@link ErrorCodes}
   * @param message what failed and what to do
   */
  public MqsealException(int code, String message) {
    super(message);
    this.code = code;
  }

  /** Returns the stable numeric error code, for example 400 for authentication_failed. */
  public int code() {
    return code;
  }

  /** Returns the stable snake_case name of the code, for example {@code authentication_failed}. */
  public String codeName() {
    return ErrorCodes.name(code);
  }

  /** Returns true when the same call may succeed later without any change. */
  public boolean isRetryable() {
    return ErrorCodes.isRetryable(code);
  }
}
