package io.mqseal;

import java.nio.file.Path;

/** Creates keyring files with random keys for tests. */
final class TestKeyring {
  private TestKeyring() {}

  /** Creates {@code dir/keyring} holding one freshly generated key per name. */
  static Path create(Path dir, String... names) {
    Path file = dir.resolve("keyring");
    for (String name : names) {
      MqsealKeyring.generate(file, name);
    }
    return file;
  }

  /** Returns a cipher that encrypts under {@code keyId} from a new keyring in {@code dir}. */
  static MqsealCipher cipher(Path dir, String keyId) {
    return MqsealCipher.builder().keyringPath(create(dir, keyId)).keyIds(keyId).build();
  }
}
