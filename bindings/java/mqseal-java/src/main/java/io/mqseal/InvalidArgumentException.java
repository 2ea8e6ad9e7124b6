package io.mqseal;

/** An argument or a configuration value is invalid or missing (codes 100, 101, 103). */
public class InvalidArgumentException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 100 (invalid_argument), 101 (null_argument) or 103 (invalid_config)
   * @param message what failed and what to do
   */
  public InvalidArgumentException(int code, String message) {
    super(code, message);
  }
}
