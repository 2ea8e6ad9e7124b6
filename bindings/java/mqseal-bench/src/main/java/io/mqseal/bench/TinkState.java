package io.mqseal.bench;

import com.google.crypto.tink.Aead;
import com.google.crypto.tink.KeyTemplates;
import com.google.crypto.tink.KeysetHandle;
import com.google.crypto.tink.RegistryConfiguration;
import com.google.crypto.tink.aead.AeadConfig;
import java.security.GeneralSecurityException;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/** Google Tink's AEAD primitive with the AES256_GCM key template. */
@State(Scope.Thread)
public class TinkState {
  @Param({"1024", "65536", "4194304"})
  public int size;

  Aead aead;
  byte[] body;
  byte[] ciphertext;

  @Setup(Level.Trial)
  public void open() throws GeneralSecurityException {
    AeadConfig.register();
    KeysetHandle handle = KeysetHandle.generateNew(KeyTemplates.get("AES256_GCM"));
    aead = handle.getPrimitive(RegistryConfiguration.get(), Aead.class);
    byte[] small = Payloads.body(1024);
    for (int i = 0; i < Payloads.WARM_UP_MESSAGES; i++) {
      aead.decrypt(aead.encrypt(small, Payloads.ASSOCIATED_DATA), Payloads.ASSOCIATED_DATA);
    }
    body = Payloads.body(size);
    ciphertext = aead.encrypt(body, Payloads.ASSOCIATED_DATA);
  }
}
