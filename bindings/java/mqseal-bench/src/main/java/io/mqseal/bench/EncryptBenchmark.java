package io.mqseal.bench;

import java.security.GeneralSecurityException;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;

/** Encrypts one message per operation, for encryption throughput at large sizes. */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class EncryptBenchmark {
  @Benchmark
  public byte[] mqsealByteArray(MqsealState state) {
    return state.cipher.encrypt(state.body, Payloads.CONTEXT);
  }

  @Benchmark
  public int mqsealDirectBuffer(MqsealState state) {
    return state.encryptDirect();
  }

  @Benchmark
  public byte[] jdkAesGcm(JdkAesGcmState state) throws GeneralSecurityException {
    return state.encrypt(state.body);
  }

  @Benchmark
  public byte[] tinkAesGcm(TinkState state) throws GeneralSecurityException {
    return state.aead.encrypt(state.body, Payloads.ASSOCIATED_DATA);
  }

  @Benchmark
  public byte[] awsEncryptionSdk(AwsEsdkState state) {
    return state.crypto.encryptData(state.materials, state.body, Payloads.CONTEXT).getResult();
  }
}
