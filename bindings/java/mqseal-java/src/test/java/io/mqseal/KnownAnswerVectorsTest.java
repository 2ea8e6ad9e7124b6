package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Decrypts the shared known-answer vectors in {@code tests/vectors/v1.json}, which every binding
 * reads: each positive vector must decrypt to its body, each negative one must fail with its
 * named error code. The keys in that file are fixed test-vector keys.
 */
class KnownAnswerVectorsTest {
  private static JsonObject vectors;

  @TempDir static Path dir;

  @BeforeAll
  static void load() throws Exception {
    Path root = Paths.get(System.getProperty("mqseal.root", "../../.."));
    vectors = JsonParser.parseString(Files.readString(root.resolve("tests/vectors/v1.json")))
        .getAsJsonObject();
    assertEquals(1, vectors.get("envelope_version").getAsInt());
  }

  private static MqsealCipher vectorCipher() throws Exception {
    Path keyring = dir.resolve("vector-keyring");
    if (!Files.exists(keyring)) {
      Files.createFile(
          keyring, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      Files.writeString(keyring, vectors.get("keyring").getAsString());
    }
    return MqsealCipher.builder().keyringPath(keyring).build();
  }

  private static Map<String, String> stringMap(JsonElement element) {
    if (element == null || element.isJsonNull()) {
      return Map.of();
    }
    Map<String, String> map = new LinkedHashMap<>();
    element.getAsJsonObject().entrySet().forEach(e -> map.put(e.getKey(), e.getValue().getAsString()));
    return map;
  }

  private static byte[] hex(JsonObject vector, String field) {
    return HexFormat.of().parseHex(vector.get(field).getAsString());
  }

  @Test
  void positiveVectorsDecrypt() throws Exception {
    List<JsonElement> positives = vectors.getAsJsonArray("vectors").asList();
    assertFalse(positives.isEmpty());
    try (MqsealCipher cipher = vectorCipher()) {
      for (JsonElement element : positives) {
        JsonObject vector = element.getAsJsonObject();
        String name = vector.get("name").getAsString();
        byte[] envelope = hex(vector, "envelope");
        Map<String, String> context = stringMap(vector.get("context"));

        Decrypted decrypted = cipher.decrypt(envelope, context);
        assertArrayEquals(hex(vector, "body"), decrypted.body(), name);
        assertEquals(stringMap(vector.get("properties")), decrypted.sealedProperties(), name);
        assertEquals(vector.get("key_id").getAsString(), decrypted.keyId(), name);
        assertEquals(vector.get("key_version").getAsLong(), decrypted.keyVersion(), name);
        assertEquals(vector.get("suite").getAsString(), decrypted.suite(), name);
        assertArrayEquals(hex(vector, "body"), cipher.decryptBody(envelope, context), name);

        EnvelopeInfo info = MqsealCipher.inspect(envelope);
        assertEquals(vector.get("suite").getAsString(), info.suite(), name);
        if (vector.get("store_context").getAsBoolean()) {
          assertEquals(context, info.storedContext(), name);
          assertArrayEquals(hex(vector, "body"), cipher.decryptBody(envelope, null), name);
        }
      }
    }
  }

  @Test
  void positiveVectorsEncryptByteForByte() {
    for (JsonElement element : vectors.getAsJsonArray("vectors").asList()) {
      JsonObject vector = element.getAsJsonObject();
      String name = vector.get("name").getAsString();
      String config =
          String.join(
              "\n",
              "provider = callback",
              "key_id = " + vector.get("key_id").getAsString(),
              "suite = " + vector.get("suite").getAsString(),
              "compression = " + (vector.get("compression").getAsBoolean() ? "lz4" : "none"),
              "compression.min_size = " + vector.get("compression_min_size").getAsInt(),
              "context.store = " + vector.get("store_context").getAsBoolean());
      try (MqsealCipher cipher =
          MqsealCipher.forKnownAnswer(
              config,
              hex(vector, "dek"),
              hex(vector, "wrapped_dek"),
              vector.get("key_version").getAsLong())) {
        byte[] envelope =
            cipher.encrypt(
                hex(vector, "body"),
                stringMap(vector.get("context")),
                stringMap(vector.get("properties")));
        assertArrayEquals(hex(vector, "envelope"), envelope, name);
      }
    }
  }

  @Test
  void negativeVectorsFailWithTheirCode() throws Exception {
    List<JsonElement> negatives = vectors.getAsJsonArray("negative").asList();
    assertFalse(negatives.isEmpty());
    try (MqsealCipher cipher = vectorCipher()) {
      for (JsonElement element : negatives) {
        JsonObject vector = element.getAsJsonObject();
        String name = vector.get("name").getAsString();
        String expected = vector.get("error").getAsString();
        byte[] envelope = hex(vector, "envelope");
        Map<String, String> context = stringMap(vector.get("context"));

        MqsealException e =
            assertThrows(MqsealException.class, () -> cipher.decrypt(envelope, context), name);
        assertEquals(expected, e.codeName(), name + ": " + e.getMessage());
        assertTrue(e.getClass() != MqsealException.class, name);
      }
    }
  }
}
