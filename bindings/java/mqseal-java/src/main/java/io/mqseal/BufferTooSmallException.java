package io.mqseal;

/** The output buffer is too small (code 102); {@link #requiredSize()} says how large it must be. */
public class BufferTooSmallException extends MqsealException {
  private static final long serialVersionUID = 1L;

  private final long requiredSize;

  /**
   * Creates the exception.
   *
   * @param message what failed and what to do
   * @param requiredSize the output size, in bytes, that the call needs
   */
  public BufferTooSmallException(String message, long requiredSize) {
    super(ErrorCodes.BUFFER_TOO_SMALL, message);
    this.requiredSize = requiredSize;
  }

  /** Returns the output size, in bytes, that the failed call needs. */
  public long requiredSize() {
    return requiredSize;
  }
}
