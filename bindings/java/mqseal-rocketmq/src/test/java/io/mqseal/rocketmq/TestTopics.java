package io.mqseal.rocketmq;

import java.security.SecureRandom;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Topic and group names of the test run. Every name carries a random run id, so runs against a
 * shared broker never see each other's messages. {@link RocketMqBroker} creates every topic listed
 * here before the first test.
 */
final class TestTopics {
  static final String RUN_ID = randomHex(4);

  static final String NAMESPACE = "mqsns" + RUN_ID;

  static final String SYNC = topic("sync");
  static final String ASYNC = topic("async");
  static final String ONEWAY = topic("oneway");
  static final String BATCH = topic("batch");
  static final String DELAY_LEVEL = topic("delaylevel");
  static final String DELIVER_TIME = topic("delivertime");
  static final String ORDERLY = topic("orderly");
  static final String TRANSACTION = topic("transaction");
  static final String REDELIVERY = topic("redelivery");
  static final String DEAD_LETTER = topic("deadletter");
  static final String DEAD_LETTER_COPY = topic("deadlettercopy");
  static final String DEAD_LETTER_BROKER = topic("deadletterbroker");
  static final String DEAD_LETTER_ORDERLY = topic("deadletterorderly");
  static final String DEAD_LETTER_BATCH = topic("deadletterbatch");
  static final String SEALED = topic("sealed");
  static final String GUARDED = topic("guarded");
  static final String UNGUARDED = topic("unguarded");
  static final String LITE_PULL = topic("litepull");
  static final String NAMESPACED = topic("namespaced");
  static final String KMS_OUTAGE = topic("kmsoutage");
  static final String KMS_DISABLED = topic("kmsdisabled");

  private TestTopics() {}

  /** Returns a consumer or producer group name unique to this run. */
  static String group(String base) {
    return "mqsg_" + base + "_" + RUN_ID;
  }

  /** Returns every topic to create, with the namespaced form of {@link #NAMESPACED}. */
  static List<String> all() {
    List<String> topics =
        new ArrayList<>(
            List.of(
                SYNC,
                ASYNC,
                ONEWAY,
                BATCH,
                DELAY_LEVEL,
                DELIVER_TIME,
                ORDERLY,
                TRANSACTION,
                REDELIVERY,
                DEAD_LETTER,
                DEAD_LETTER_COPY,
                DEAD_LETTER_BROKER,
                DEAD_LETTER_ORDERLY,
                DEAD_LETTER_BATCH,
                SEALED,
                GUARDED,
                UNGUARDED,
                LITE_PULL,
                KMS_OUTAGE,
                KMS_DISABLED));
    topics.add(NAMESPACE + "%" + NAMESPACED);
    return topics;
  }

  private static String randomHex(int bytes) {
    byte[] random = new byte[bytes];
    new SecureRandom().nextBytes(random);
    return HexFormat.of().formatHex(random);
  }

  private static String topic(String base) {
    return "mqst_" + base + "_" + RUN_ID;
  }
}
