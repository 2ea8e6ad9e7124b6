package io.mqseal;

import java.nio.file.Path;

/**
 * Creates and rotates keys in a local keyring file, the development and pilot key provider.
 *
 * <p>A keyring file contains key-encryption keys in hex, protected only by file permissions (the
 * file is written with mode 0600). Use a KMS in production.
 */
public final class MqsealKeyring {
  private MqsealKeyring() {}

  /**
   * Adds a new key named {@code name} to the keyring file, creating the file when it does not
   * exist.
   *
   * @return the version of the new key
   * @throws InvalidArgumentException when the name is invalid or the key already exists
   */
  public static long generate(Path file, String name) {
    return MqsealNative.keyringGenerate(pathString(file), requireName(name));
  }

  /**
   * Adds a new primary version of key {@code name}. Ciphers pick it up for new data keys after
   * {@link MqsealCipher#rotate()}; envelopes under older versions stay decryptable.
   *
   * @return the new version
   */
  public static long rotate(Path file, String name) {
    return MqsealNative.keyringRotate(pathString(file), requireName(name));
  }

  private static String pathString(Path file) {
    if (file == null) {
      throw ErrorCodes.nullArgument("keyring file");
    }
    return file.toAbsolutePath().toString();
  }

  private static String requireName(String name) {
    if (name == null) {
      throw ErrorCodes.nullArgument("key name");
    }
    return name;
  }
}
