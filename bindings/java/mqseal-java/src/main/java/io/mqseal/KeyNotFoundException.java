package io.mqseal;

/** No configured key provider holds the key id or key version named by the envelope (codes 500, 501). */
public class KeyNotFoundException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 500 (key_not_found) or 501 (key_version_not_found)
   * @param message what failed and what to do
   */
  public KeyNotFoundException(int code, String message) {
    super(code, message);
  }

  /**
   * Creates the exception with code 500 (key_not_found), for key providers to throw.
   *
   * @param message what failed and what to do
   */
  public KeyNotFoundException(String message) {
    super(ErrorCodes.KEY_NOT_FOUND, message);
  }
}
