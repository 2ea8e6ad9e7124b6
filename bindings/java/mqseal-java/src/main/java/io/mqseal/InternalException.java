package io.mqseal;

/** An internal invariant failed or a Rust panic was caught (codes 900, 901); this is a bug in mqseal. */
public class InternalException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 900 (internal) or 901 (panic)
   * @param message what failed and what to do
   */
  public InternalException(int code, String message) {
    super(code, message);
  }
}
