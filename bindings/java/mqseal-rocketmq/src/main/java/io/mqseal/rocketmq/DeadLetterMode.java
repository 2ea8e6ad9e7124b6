package io.mqseal.rocketmq;

/**
 * Way a decrypting listener moves a message that can never be decrypted (tampered body, unknown key
 * id or version, body not encrypted where encryption is required) to the group's dead-letter topic
 * {@code %DLQ%<group>}. The body stays byte-for-byte unchanged in both modes.
 */
public enum DeadLetterMode {
  /**
   * The listener sends a copy of the message to {@code %DLQ%<group>} itself, through the client's
   * internal producer, with the diagnostic properties {@code mqseal-error-code}, {@code
   * mqseal-error} and {@code mqseal-error-retryable}, then acknowledges the original. When that
   * send fails it falls back to {@link #BROKER_COPY}. The forward and the acknowledgement are two
   * steps, so a crash between them can leave a duplicate in the dead-letter topic.
   */
  FORWARD_WITH_DIAGNOSTICS,

  /**
   * The broker copies the stored message to {@code %DLQ%<group>} ({@code CONSUMER_SEND_MSG_BACK}
   * with delay level -1). Atomic on the broker, but the dead-lettered message carries no mqseal
   * diagnostic properties, because the broker copies the stored properties.
   */
  BROKER_COPY
}
