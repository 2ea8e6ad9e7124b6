package io.mqseal.bench;

import java.security.GeneralSecurityException;
import java.security.SecureRandom;
import javax.crypto.Cipher;
import javax.crypto.spec.GCMParameterSpec;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The JDK's AES/GCM/NoPadding with a 256-bit key and a random 12-byte nonce per message. The
 * message is the nonce followed by the ciphertext and the 16-byte tag.
 */
@State(Scope.Thread)
public class JdkAesGcmState {
  private static final int NONCE_LENGTH = 12;
  private static final int TAG_BITS = 128;

  @Param({"1024", "65536", "4194304"})
  public int size;

  byte[] body;
  byte[] message;
  private SecretKeySpec key;
  private SecureRandom random;
  private Cipher encryptor;
  private Cipher decryptor;

  @Setup(Level.Trial)
  public void open() throws GeneralSecurityException {
    random = new SecureRandom();
    byte[] keyBytes = new byte[32];
    random.nextBytes(keyBytes);
    key = new SecretKeySpec(keyBytes, "AES");
    encryptor = Cipher.getInstance("AES/GCM/NoPadding");
    decryptor = Cipher.getInstance("AES/GCM/NoPadding");
    byte[] small = Payloads.body(1024);
    for (int i = 0; i < Payloads.WARM_UP_MESSAGES; i++) {
      decrypt(encrypt(small));
    }
    body = Payloads.body(size);
    message = encrypt(body);
  }

  byte[] encrypt(byte[] plaintext) throws GeneralSecurityException {
    byte[] nonce = new byte[NONCE_LENGTH];
    random.nextBytes(nonce);
    encryptor.init(Cipher.ENCRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, nonce));
    encryptor.updateAAD(Payloads.ASSOCIATED_DATA);
    byte[] out = new byte[NONCE_LENGTH + encryptor.getOutputSize(plaintext.length)];
    System.arraycopy(nonce, 0, out, 0, NONCE_LENGTH);
    encryptor.doFinal(plaintext, 0, plaintext.length, out, NONCE_LENGTH);
    return out;
  }

  byte[] decrypt(byte[] sealed) throws GeneralSecurityException {
    decryptor.init(
        Cipher.DECRYPT_MODE, key, new GCMParameterSpec(TAG_BITS, sealed, 0, NONCE_LENGTH));
    decryptor.updateAAD(Payloads.ASSOCIATED_DATA);
    return decryptor.doFinal(sealed, NONCE_LENGTH, sealed.length - NONCE_LENGTH);
  }
}
