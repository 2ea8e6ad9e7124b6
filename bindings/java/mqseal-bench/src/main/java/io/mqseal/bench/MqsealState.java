package io.mqseal.bench;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.stream.Stream;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

/** An mqseal cipher on a keyring generated for the run, and buffers for one message. */
@State(Scope.Thread)
public class MqsealState {
  @Param({"1024", "65536", "4194304"})
  public int size;

  MqsealCipher cipher;
  byte[] body;
  byte[] envelope;
  ByteBuffer bodyDirect;
  ByteBuffer envelopeDirect;
  ByteBuffer outDirect;
  private Path directory;

  @Setup(Level.Trial)
  public void open() throws IOException {
    directory = Files.createTempDirectory("mqseal-bench");
    Path keyring = directory.resolve("keyring");
    MqsealKeyring.generate(keyring, "bench");
    cipher = MqsealCipher.builder().keyringPath(keyring).keyIds("bench").build();

    byte[] small = Payloads.body(1024);
    for (int i = 0; i < Payloads.WARM_UP_MESSAGES; i++) {
      cipher.decryptBody(cipher.encrypt(small, Payloads.CONTEXT), Payloads.CONTEXT);
    }
    body = Payloads.body(size);
    envelope = cipher.encrypt(body, Payloads.CONTEXT);
    bodyDirect = ByteBuffer.allocateDirect(size);
    bodyDirect.put(body).clear();
    envelopeDirect = ByteBuffer.allocateDirect(cipher.encryptedLength(size, Payloads.CONTEXT));
    outDirect = ByteBuffer.allocateDirect(size);
  }

  @TearDown(Level.Trial)
  public void close() throws IOException {
    cipher.close();
    try (Stream<Path> files = Files.walk(directory)) {
      for (Path file : files.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(file);
      }
    }
  }

  /** Encrypts the direct body buffer into the direct envelope buffer, ready to read. */
  int encryptDirect() {
    bodyDirect.clear();
    envelopeDirect.clear();
    int written = cipher.encrypt(bodyDirect, envelopeDirect, Payloads.CONTEXT);
    envelopeDirect.flip();
    return written;
  }

  /** Decrypts the direct envelope buffer into the direct output buffer. */
  int decryptDirect() {
    outDirect.clear();
    return cipher.decrypt(envelopeDirect, outDirect, Payloads.CONTEXT);
  }
}
