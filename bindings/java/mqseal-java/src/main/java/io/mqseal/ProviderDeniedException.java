package io.mqseal;

/** The key provider denied access, the key is disabled, or its response was unusable (codes 700 to 702). */
public class ProviderDeniedException extends MqsealException {
  private static final long serialVersionUID = 1L;

  /**
   * Creates the exception.
   *
   * @param code one of the codes 700 to 702 (denied, key disabled, invalid response)
   * @param message what failed and what to do
   */
  public ProviderDeniedException(int code, String message) {
    super(code, message);
  }

  /**
   * Creates the exception with code 700 (provider_denied), for key providers to throw.
   *
   * @param message what failed and what to do
   */
  public ProviderDeniedException(String message) {
    super(ErrorCodes.PROVIDER_DENIED, message);
  }
}
