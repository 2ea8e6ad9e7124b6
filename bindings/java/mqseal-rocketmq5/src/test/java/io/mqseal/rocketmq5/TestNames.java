package io.mqseal.rocketmq5;

import io.mqseal.rocketmq.common.testing.RmqHarness;
import java.security.SecureRandom;
import java.util.HexFormat;

/**
 * Topic and group names of the test run. Every name carries a random run id, so runs against a
 * shared proxy never see each other's messages. {@link RocketMqProxy} creates them all first.
 */
final class TestNames {
  static final String RUN_ID = randomHex(4);

  static final String NORMAL = topic("normal");
  static final String LIMITS = topic("limits");
  static final String SIMPLE = topic("simple");
  static final String DEAD_LETTER = topic("deadletter");
  static final String DEAD_LETTER_LATE = topic("deadletterlate");
  static final String DELAY = topic("delay");
  static final String FIFO = topic("fifo");
  static final String TRANSACTION = topic("transaction");

  static final String ROUND_TRIP_GROUP = group("roundtrip");
  static final String SIMPLE_GROUP = group("simple");
  static final String DELAY_GROUP = group("delay");
  static final String TRANSACTION_GROUP = group("transaction");
  /** FIFO consumption needs a group with consumeMessageOrderly. */
  static final String FIFO_GROUP = group("fifo");
  /** Three deliveries before the proxy dead-letters, so an immediate forward is visible. */
  static final String DEAD_LETTER_GROUP = group("deadletter");
  static final String DEAD_LETTER_READER = group("dlqreader");
  /** Like {@link #DEAD_LETTER_GROUP}, for a listener that leaves dead-lettering to the proxy. */
  static final String DEAD_LETTER_LATE_GROUP = group("deadletterlate");

  /** Deliveries the dead-letter group allows before the proxy dead-letters a message. */
  static final int DEAD_LETTER_RETRY_MAX = 2;

  private TestNames() {}

  static String deadLetterTopic(String group) {
    return "%DLQ%" + group;
  }

  /** Creates every topic with its message type, and the groups that need settings. */
  static void create(RmqHarness proxy) {
    proxy.run(300, "topic", "--type", "NORMAL", NORMAL, LIMITS, SIMPLE, DEAD_LETTER, DEAD_LETTER_LATE);
    proxy.run(300, "topic", "--type", "DELAY", DELAY);
    proxy.run(300, "topic", "--type", "FIFO", FIFO);
    proxy.run(300, "topic", "--type", "TRANSACTION", TRANSACTION);
    proxy.run(300, "group", "--fifo", FIFO_GROUP);
    proxy.run(
        300,
        "group",
        "--retry-max",
        Integer.toString(DEAD_LETTER_RETRY_MAX),
        DEAD_LETTER_GROUP,
        DEAD_LETTER_LATE_GROUP);
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  private static String topic(String base) {
    return "mq5t_" + base + "_" + RUN_ID;
  }

  static String group(String base) {
    return "mq5g_" + base + "_" + RUN_ID;
  }
}
