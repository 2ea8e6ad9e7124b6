package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;

/** Creates keyring files for tests and checks the native live-object counts. */
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

  /** Writes keyring text to {@code file} with mode 0600, as the keyring requires. */
  static Path write(Path file, String text) throws IOException {
    Files.deleteIfExists(file);
    Files.createFile(
        file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    Files.writeString(file, text, StandardCharsets.US_ASCII);
    return file;
  }

  /** Returns the native library's live handle and provider counts. */
  static long[] live() {
    return MqsealNative.debugLiveObjects();
  }

  /**
   * Checks that no count in {@link #live()} grew since {@code before}. Ciphers that other tests
   * left to the {@code Cleaner} may be freed meanwhile, so counts may fall; a growth is retried
   * after a garbage collection for a few seconds before it fails.
   */
  static void assertNoLeak(long[] before) throws InterruptedException {
    for (int attempt = 0; attempt < 100; attempt++) {
      long[] now = live();
      if (now[0] <= before[0] && now[1] <= before[1]) {
        return;
      }
      System.gc();
      Thread.sleep(50);
    }
    long[] now = live();
    assertTrue(now[0] <= before[0], "live handles grew from " + before[0] + " to " + now[0]);
    assertTrue(now[1] <= before[1], "live providers grew from " + before[1] + " to " + now[1]);
  }
}
