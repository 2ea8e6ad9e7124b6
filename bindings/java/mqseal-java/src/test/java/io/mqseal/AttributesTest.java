package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class AttributesTest {
  private static byte[] nativeEncoding(Map<String, String> map) {
    List<String> pairs = new ArrayList<>();
    map.forEach(
        (key, value) -> {
          pairs.add(key);
          pairs.add(value);
        });
    return MqsealNative.encodeAttributes(pairs.toArray(new String[0]));
  }

  @Test
  void encodingMatchesCore() {
    List<Map<String, String>> cases =
        List.of(
            Map.of("topic", "orders"),
            Map.of("topic", "orders", "app", "billing", "k", ""),
            // U+FF5E sorts before U+1F600 in UTF-16 but after it in UTF-8 byte order.
            Map.of("\uFF5E", "a", "\uD83D\uDE00", "b", "z", "c", "é", "d"));
    for (Map<String, String> map : cases) {
      assertArrayEquals(nativeEncoding(map), Attributes.encode(map, "context"), map.toString());
    }
  }

  @Test
  void encodingIsOrderIndependent() {
    Map<String, String> forward = new LinkedHashMap<>();
    forward.put("a", "1");
    forward.put("b", "2");
    Map<String, String> backward = new LinkedHashMap<>();
    backward.put("b", "2");
    backward.put("a", "1");
    assertArrayEquals(Attributes.encode(forward, "x"), Attributes.encode(backward, "x"));
  }

  @Test
  void emptyMapEncodesToNull() {
    assertNull(Attributes.encode(null, "context"));
    assertNull(Attributes.encode(Map.of(), "context"));
  }

  @Test
  void decodeRoundTrips() {
    Map<String, String> map = Map.of("topic", "orders", "\uD83D\uDE00", "");
    assertEquals(map, Attributes.decode(Attributes.encode(map, "context")));
  }
}
