package io.mqseal;

/** The key provider failed transiently (codes 600 to 602); the same call may succeed later. */
public class ProviderUnavailableException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 600 to 602 (unavailable, throttled, timed out)
   * @param message what failed and what to do
   */
  public ProviderUnavailableException(int code, String message) {
    super(code, message);
  }

  /**
   * Creates the exception with code 600 (provider_unavailable), for key providers to throw.
   *
   * @param message what failed and what to do
   */
  public ProviderUnavailableException(String message) {
    super(ErrorCodes.PROVIDER_UNAVAILABLE, message);
  }
}
