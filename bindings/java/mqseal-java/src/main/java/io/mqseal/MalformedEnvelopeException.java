package io.mqseal;

/** The envelope is structurally invalid or truncated (codes 200, 201). */
public class MalformedEnvelopeException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 200 (malformed_envelope) or 201 (truncated_envelope)
   * @param message what failed and what to do
   */
  public MalformedEnvelopeException(int code, String message) {
    super(code, message);
  }
}
