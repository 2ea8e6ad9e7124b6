package io.mqseal;

/** The input is not an mqseal envelope, for example a plaintext body (code 202). */
public class NotEncryptedException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 202 (not_encrypted)
   * @param message what failed and what to do
   */
  public NotEncryptedException(int code, String message) {
    super(code, message);
  }
}
