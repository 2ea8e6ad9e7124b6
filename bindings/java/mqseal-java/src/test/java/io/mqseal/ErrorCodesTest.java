package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ErrorCodesTest {
  /** The exception class each code must map to, as documented on the classes. */
  private static final Map<Integer, Class<? extends MqsealException>> EXPECTED =
      Map.ofEntries(
          Map.entry(100, InvalidArgumentException.class),
          Map.entry(101, InvalidArgumentException.class),
          Map.entry(102, BufferTooSmallException.class),
          Map.entry(103, InvalidArgumentException.class),
          Map.entry(104, HandleClosedException.class),
          Map.entry(200, MalformedEnvelopeException.class),
          Map.entry(201, MalformedEnvelopeException.class),
          Map.entry(202, NotEncryptedException.class),
          Map.entry(300, UnsupportedEnvelopeException.class),
          Map.entry(301, UnsupportedEnvelopeException.class),
          Map.entry(302, UnsupportedEnvelopeException.class),
          Map.entry(400, AuthenticationFailedException.class),
          Map.entry(401, AuthenticationFailedException.class),
          Map.entry(500, KeyNotFoundException.class),
          Map.entry(501, KeyNotFoundException.class),
          Map.entry(600, ProviderUnavailableException.class),
          Map.entry(601, ProviderUnavailableException.class),
          Map.entry(602, ProviderUnavailableException.class),
          Map.entry(700, ProviderDeniedException.class),
          Map.entry(701, ProviderDeniedException.class),
          Map.entry(702, ProviderDeniedException.class),
          Map.entry(800, UsageLimitExceededException.class),
          Map.entry(900, InternalException.class),
          Map.entry(901, InternalException.class));

  @Test
  void tableCoversEveryNativeCode() {
    int[] nativeCodes = MqsealNative.errorCodes();
    Set<Integer> codes = new HashSet<>();
    Arrays.stream(nativeCodes).forEach(codes::add);
    assertEquals(EXPECTED.keySet(), codes);
  }

  @Test
  void namesAndRetryabilityMatchNative() {
    for (int code : MqsealNative.errorCodes()) {
      assertEquals(MqsealNative.errorCodeName(code), ErrorCodes.name(code), "code " + code);
      assertEquals(
          MqsealNative.errorCodeRetryable(code), ErrorCodes.isRetryable(code), "code " + code);
    }
  }

  @Test
  void constantsMatchNativeNames() throws IllegalAccessException {
    Map<String, Integer> constants = new HashMap<>();
    for (Field field : ErrorCodes.class.getFields()) {
      if (Modifier.isStatic(field.getModifiers()) && field.getType() == int.class) {
        constants.put(field.getName(), field.getInt(null));
      }
    }
    assertEquals(MqsealNative.errorCodes().length, constants.size());
    for (Map.Entry<String, Integer> constant : constants.entrySet()) {
      assertEquals(
          constant.getKey().toLowerCase(java.util.Locale.ROOT),
          MqsealNative.errorCodeName(constant.getValue()),
          constant.getKey());
    }
  }

  /** Raises every code in native code and checks the class of the exception Java receives. */
  @Test
  void everyNativeCodeThrowsItsClass() {
    for (int code : MqsealNative.errorCodes()) {
      MqsealException e =
          assertThrows(MqsealException.class, () -> MqsealNative.debugThrow(code, 77));
      assertEquals(EXPECTED.get(code), e.getClass(), "code " + code);
      assertEquals(code, e.code());
      assertEquals(MqsealNative.errorCodeName(code), e.codeName());
      assertEquals(code >= 600 && code <= 602, e.isRetryable(), "code " + code);
      if (e instanceof BufferTooSmallException tooSmall) {
        assertEquals(77, tooSmall.requiredSize());
      }
    }
  }

  @Test
  void unknownCodesMapByBlock() {
    assertInstanceOf(AuthenticationFailedException.class, ErrorCodes.exceptionFor(499, "m", -1));
    assertInstanceOf(ProviderUnavailableException.class, ErrorCodes.exceptionFor(650, "m", -1));
    assertInstanceOf(InternalException.class, ErrorCodes.exceptionFor(1234, "m", -1));
    assertEquals("unknown_1234", ErrorCodes.name(1234));
  }

  @Test
  void propertyConstantsMatchCore() throws ReflectiveOperationException {
    String[] pairs = MqsealNative.propertyConstants();
    Set<String> javaConstants = new HashSet<>();
    for (Field field : MqsealProperties.class.getFields()) {
      javaConstants.add(field.getName());
    }
    Set<String> nativeConstants = new HashSet<>();
    for (int i = 0; i < pairs.length; i += 2) {
      nativeConstants.add(pairs[i]);
      Object value = MqsealProperties.class.getField(pairs[i]).get(null);
      assertEquals(pairs[i + 1], value, pairs[i]);
    }
    assertEquals(nativeConstants, javaConstants);

    // Every name in the core's property table has a Java constant.
    Set<Object> javaValues = new HashSet<>();
    for (Field field : MqsealProperties.class.getFields()) {
      javaValues.add(field.get(null));
    }
    for (String name : MqsealNative.propertyTable()) {
      assertTrue(javaValues.contains(name), name);
      assertTrue(name.startsWith(MqsealProperties.PREFIX), name);
    }
  }
}
