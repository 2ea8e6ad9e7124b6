package io.mqseal;

/** The envelope uses a version, cipher suite or feature this build does not support (codes 300 to 302); upgrade mqseal on the consumer. */
public class UnsupportedEnvelopeException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 300 to 302 (unsupported version, suite or feature)
   * @param message what failed and what to do
   */
  public UnsupportedEnvelopeException(int code, String message) {
    super(code, message);
  }
}
