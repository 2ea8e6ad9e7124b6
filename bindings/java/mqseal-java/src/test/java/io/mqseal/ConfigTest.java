package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigTest {
  @TempDir Path dir;

  @Test
  void fromConfigTextWithPrefixedKeys() {
    Path keyring = TestKeyring.create(dir, "orders");
    String text =
        "# settings as they would appear in a .properties file\n"
            + "mqseal.keyring.path = " + keyring + "\n"
            + "mqseal.key_id = orders\n"
            + "mqseal.suite = chacha20-poly1305\n"
            + "mqseal.context.store = true\n";
    try (MqsealCipher cipher = MqsealCipher.fromConfig(text)) {
      byte[] envelope = cipher.encrypt(new byte[] {1, 2, 3}, Map.of("topic", "orders"));
      EnvelopeInfo info = MqsealCipher.inspect(envelope);
      assertEquals("chacha20-poly1305", info.suite());
      assertEquals(List.of("orders"), info.keyIds());
      assertEquals(Map.of("topic", "orders"), info.storedContext());
      assertArrayEquals(new byte[] {1, 2, 3}, cipher.decryptBody(envelope, null));
    }
  }

  @Test
  void fromConfigFile() throws Exception {
    Path keyring = TestKeyring.create(dir, "orders");
    Path file = dir.resolve("mqseal.properties");
    Files.writeString(file, "keyring.path = " + keyring + "\nkey_id = orders\n");
    try (MqsealCipher cipher = MqsealCipher.fromConfigFile(file)) {
      assertArrayEquals(new byte[] {9}, cipher.decryptBody(cipher.encrypt(new byte[] {9}), null));
    }
  }

  @Test
  void missingConfigFileIsInvalidConfig() {
    Path missing = dir.resolve("absent.properties");
    InvalidArgumentException e =
        assertThrows(InvalidArgumentException.class, () -> MqsealCipher.fromConfigFile(missing));
    assertEquals(ErrorCodes.INVALID_CONFIG, e.code());
    assertTrue(e.getMessage().contains("absent.properties"), e.getMessage());
  }

  @Test
  void unknownSettingIsRejected() {
    Path keyring = TestKeyring.create(dir, "orders");
    InvalidArgumentException e =
        assertThrows(
            InvalidArgumentException.class,
            () -> MqsealCipher.fromConfig("keyring.path = " + keyring + "\nkey_idd = orders\n"));
    assertEquals(ErrorCodes.INVALID_CONFIG, e.code());
    assertTrue(e.getMessage().contains("line 2"), e.getMessage());
  }

  @Test
  void builderAppliesEverySetting() {
    Path keyring = TestKeyring.create(dir, "a", "b");
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyringPath(keyring)
            .keyIds("a", "b")
            .suite("aes-256-gcm")
            .backend("aws-lc")
            .maxMessagesPerKey(2)
            .maxBytesPerKey(1 << 20)
            .maxKeyAge(Duration.ofMinutes(5))
            .cacheCapacity(10)
            .cacheTtl(Duration.ofSeconds(30))
            .compression(false)
            .compressionMinSize(100)
            .maxBodyLength(4096)
            .storeContext(false)
            .build()) {
      byte[] envelope = cipher.encrypt(new byte[10]);
      assertEquals(List.of("a", "b"), MqsealCipher.inspect(envelope).keyIds());
      cipher.encrypt(new byte[10]);
      cipher.encrypt(new byte[10]);
      // maxMessagesPerKey(2): the third message needs a second data key.
      assertEquals(2, cipher.counters().dataKeysCreated());
      assertThrows(UsageLimitExceededException.class, () -> cipher.encrypt(new byte[4097]));
    }
  }

  @Test
  void builderRejectsInvalidValues() {
    MqsealCipher.Builder builder = MqsealCipher.builder();
    assertThrows(InvalidArgumentException.class, () -> builder.maxMessagesPerKey(0));
    assertThrows(InvalidArgumentException.class, () -> builder.maxBytesPerKey(-1));
    assertThrows(InvalidArgumentException.class, () -> builder.maxKeyAge(Duration.ZERO));
    assertThrows(InvalidArgumentException.class, () -> builder.cacheCapacity(-1));
    assertThrows(InvalidArgumentException.class, () -> builder.maxBodyLength(0));
    assertThrows(InvalidArgumentException.class, () -> builder.keyIds("a", null));
    InvalidArgumentException missingPath =
        assertThrows(InvalidArgumentException.class, builder::build);
    assertEquals(ErrorCodes.INVALID_CONFIG, missingPath.code());

    Path keyring = TestKeyring.create(dir, "k");
    InvalidArgumentException badSuite =
        assertThrows(
            InvalidArgumentException.class,
            () -> MqsealCipher.builder().keyringPath(keyring).suite("rot13").build());
    assertTrue(badSuite.getMessage().contains("rot13"), badSuite.getMessage());
    assertThrows(
        InvalidArgumentException.class,
        () -> MqsealCipher.builder().keyringPath(keyring).maxMessagesPerKey(1L << 33).build());
  }

  @Test
  void keyringErrors() throws Exception {
    Path keyring = TestKeyring.create(dir, "k");
    assertThrows(InvalidArgumentException.class, () -> MqsealKeyring.generate(keyring, "k"));
    assertThrows(InvalidArgumentException.class, () -> MqsealKeyring.generate(keyring, "bad name"));
    assertThrows(KeyNotFoundException.class, () -> MqsealKeyring.rotate(keyring, "absent"));
    assertEquals(2, MqsealKeyring.rotate(keyring, "k"));

    Path open = dir.resolve("open-keyring");
    Files.copy(keyring, open);
    Files.setPosixFilePermissions(
        open, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    InvalidArgumentException e =
        assertThrows(
            InvalidArgumentException.class,
            () -> MqsealCipher.builder().keyringPath(open).build());
    assertTrue(e.getMessage().contains("chmod 600"), e.getMessage());
  }
}
