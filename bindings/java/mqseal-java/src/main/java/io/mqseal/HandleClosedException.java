package io.mqseal;

/** The cipher was closed before this call (code 104). */
public class HandleClosedException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 104 (handle_closed)
   * @param message what failed and what to do
   */
  public HandleClosedException(int code, String message) {
    super(code, message);
  }
}
