package io.mqseal;

/** A data-key usage limit or a body size limit was exceeded (code 800). */
public class UsageLimitExceededException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 800 (usage_limit_exceeded)
   * @param message what failed and what to do
   */
  public UsageLimitExceededException(int code, String message) {
    super(code, message);
  }
}
