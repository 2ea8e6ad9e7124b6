package io.mqseal.bench;

import com.amazonaws.encryptionsdk.AwsCrypto;
import com.amazonaws.encryptionsdk.CommitmentPolicy;
import com.amazonaws.encryptionsdk.CryptoAlgorithm;
import com.amazonaws.encryptionsdk.CryptoMaterialsManager;
import com.amazonaws.encryptionsdk.caching.CachingCryptoMaterialsManager;
import com.amazonaws.encryptionsdk.caching.LocalCryptoMaterialsCache;
import com.amazonaws.encryptionsdk.jce.JceMasterKey;
import java.security.SecureRandom;
import java.util.concurrent.TimeUnit;
import javax.crypto.spec.SecretKeySpec;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

/**
 * The AWS Encryption SDK with a raw AES-256 wrapping key (JceMasterKey, AES/GCM/NoPadding), its
 * caching materials manager, and the committing, non-signing suite
 * ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY. The cache lets data keys be reused across messages,
 * like mqseal's producer key.
 */
@State(Scope.Thread)
public class AwsEsdkState {
  @Param({"1024", "65536", "4194304"})
  public int size;

  AwsCrypto crypto;
  CryptoMaterialsManager materials;
  byte[] body;
  byte[] ciphertext;

  @Setup(Level.Trial)
  public void open() {
    byte[] keyBytes = new byte[32];
    new SecureRandom().nextBytes(keyBytes);
    JceMasterKey wrappingKey =
        JceMasterKey.getInstance(
            new SecretKeySpec(keyBytes, "AES"), "mqseal-bench", "bench-key", "AES/GCM/NoPadding");
    materials =
        CachingCryptoMaterialsManager.newBuilder()
            .withMasterKeyProvider(wrappingKey)
            .withCache(new LocalCryptoMaterialsCache(100))
            .withMaxAge(1, TimeUnit.HOURS)
            .withMessageUseLimit(1L << 24)
            .build();
    crypto =
        AwsCrypto.builder()
            .withCommitmentPolicy(CommitmentPolicy.RequireEncryptRequireDecrypt)
            .withEncryptionAlgorithm(CryptoAlgorithm.ALG_AES_256_GCM_HKDF_SHA512_COMMIT_KEY)
            .build();
    byte[] small = Payloads.body(1024);
    for (int i = 0; i < Payloads.WARM_UP_MESSAGES / 10; i++) {
      byte[] sealed = crypto.encryptData(materials, small, Payloads.CONTEXT).getResult();
      crypto.decryptData(materials, sealed);
    }
    body = Payloads.body(size);
    ciphertext = crypto.encryptData(materials, body, Payloads.CONTEXT).getResult();
  }
}
