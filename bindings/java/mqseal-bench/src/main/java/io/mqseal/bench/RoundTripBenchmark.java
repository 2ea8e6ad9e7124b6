package io.mqseal.bench;

import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/** Encrypts and then decrypts one message per operation, binding the context to it. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RoundTripBenchmark {
  @Benchmark
  public byte[] mqsealByteArray(MqsealState state) {
    byte[] envelope = state.cipher.encrypt(state.body, Payloads.CONTEXT);
    return state.cipher.decryptBody(envelope, Payloads.CONTEXT);
  }

  @Benchmark
  public int mqsealDirectBuffer(MqsealState state) {
    state.encryptDirect();
    return state.decryptDirect();
  }

  @Benchmark
  public byte[] jdkAesGcm(JdkAesGcmState state) throws GeneralSecurityException {
    return state.decrypt(state.encrypt(state.body));
  }

  @Benchmark
  public byte[] tinkAesGcm(TinkState state) throws GeneralSecurityException {
    byte[] ciphertext = state.aead.encrypt(state.body, Payloads.ASSOCIATED_DATA);
    return state.aead.decrypt(ciphertext, Payloads.ASSOCIATED_DATA);
  }

  @Benchmark
  public byte[] awsEncryptionSdk(AwsEsdkState state) {
    byte[] ciphertext =
        state.crypto.encryptData(state.materials, state.body, Payloads.CONTEXT).getResult();
    return state.crypto.decryptData(state.materials, ciphertext).getResult();
  }
}
