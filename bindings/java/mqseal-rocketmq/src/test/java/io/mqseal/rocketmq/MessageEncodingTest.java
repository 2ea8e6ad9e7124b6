package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.rocketmq.common.LogLimiter;
import io.mqseal.rocketmq.common.PropertyValues;
import java.util.List;
import java.util.Map;
import org.apache.rocketmq.common.message.Message;
import org.apache.rocketmq.common.message.MessageClientIDSetter;
import org.apache.rocketmq.common.message.MessageDecoder;
import org.junit.jupiter.api.Test;

/** Checks the helpers that do not need a broker or the native library. */
class MessageEncodingTest {
  @Test
  void batchEntrySizeMatchesClientEncoding() {
    for (int size : new int[] {0, 1, 1000, 70_000}) {
      Message message = new Message("orders", "tagA", "key-" + size, new byte[size]);
      message.putUserProperty("mqseal-kid", "orders");
      message.putUserProperty("note", "caf\u00e9 \u2603");
      MessageClientIDSetter.setUniqID(message);
      assertEquals(
          MessageDecoder.encodeMessage(message).length,
          MessageEncryptor.batchEntrySize(message),
          "body size " + size);
    }
  }

  @Test
  void textSafeEncodesSeparatorsAndPercent() {
    assertEquals("orders-1", PropertyValues.textSafe("orders-1"));
    assertEquals("a%01b%02c%25d", PropertyValues.textSafe("a\u0001b\u0002c%d"));
    assertEquals("1,2", PropertyValues.joinTextSafe(List.of(1L, 2L)));
  }

  @Test
  void selectorSealsNamesAndPrefixesOnly() {
    SealedPropertySelector selector =
        new SealedPropertySelector(List.of("ssn"), List.of("secret-"));
    Map<String, String> properties =
        Map.of(
            "ssn",
            "1",
            "secret-a",
            "2",
            "visible",
            "3",
            "TAGS",
            "t",
            "mqseal-kid",
            "k",
            "__SHARDINGKEY",
            "s");
    assertEquals(Map.of("ssn", "1", "secret-a", "2"), selector.select(properties));
  }

  @Test
  void selectorRejectsSystemAndMqsealNames() {
    IllegalArgumentException tags =
        assertThrows(
            IllegalArgumentException.class,
            () -> new SealedPropertySelector(List.of("TAGS"), List.of()));
    assertTrue(tags.getMessage().contains("TAGS"), tags.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> new SealedPropertySelector(List.of(), List.of("mqseal-")));
    assertThrows(
        IllegalArgumentException.class, () -> new SealedPropertySelector(List.of(""), List.of()));
  }

  @Test
  void logLimiterHoldsBackBeyondBurst() {
    LogLimiter limiter = new LogLimiter(60_000, 2);
    assertEquals(0, limiter.tryAcquire());
    assertEquals(0, limiter.tryAcquire());
    assertEquals(-1, limiter.tryAcquire());
    assertEquals(-1, limiter.tryAcquire());
  }
}
