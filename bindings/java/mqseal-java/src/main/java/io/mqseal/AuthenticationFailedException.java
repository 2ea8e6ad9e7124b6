package io.mqseal;

/** Authentication failed: the envelope was modified, the key is wrong, or the context differs from the one used to encrypt (codes 400, 401). */
public class AuthenticationFailedException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 400 (authentication_failed) or 401 (key_commitment_mismatch)
   * @param message what failed and what to do
   */
  public AuthenticationFailedException(int code, String message) {
    super(code, message);
  }
}
