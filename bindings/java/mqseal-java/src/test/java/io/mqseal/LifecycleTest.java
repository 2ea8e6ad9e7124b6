package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LifecycleTest {
  @TempDir Path dir;

  @Test
  void useAfterCloseThrowsHandleClosed() {
    MqsealCipher cipher = TestKeyring.cipher(dir, "k");
    byte[] envelope = cipher.encrypt(new byte[4]);
    cipher.close();
    HandleClosedException e =
        assertThrows(HandleClosedException.class, () -> cipher.encrypt(new byte[4]));
    assertEquals(ErrorCodes.HANDLE_CLOSED, e.code());
    assertThrows(HandleClosedException.class, () -> cipher.decryptBody(envelope, null));
    assertThrows(HandleClosedException.class, cipher::counters);
    assertThrows(HandleClosedException.class, cipher::rotate);
    assertThrows(
        HandleClosedException.class,
        () -> cipher.encrypt(ByteBuffer.allocate(1), ByteBuffer.allocate(100), null));
  }

  @Test
  void doubleCloseIsHarmless() {
    MqsealCipher cipher = TestKeyring.cipher(dir, "k");
    cipher.close();
    assertDoesNotThrow(cipher::close);
  }

  @Test
  void handleFreesOnceWhenCloseRacesCalls() throws Exception {
    AtomicInteger frees = new AtomicInteger();
    NativeHandle handle = new NativeHandle(42, pointer -> frees.incrementAndGet());
    assertEquals(42, handle.acquire());
    assertEquals(42, handle.acquire());
    assertTrue(handle.close());
    assertEquals(0, frees.get(), "freed while calls were in flight");
    handle.release();
    assertEquals(0, frees.get());
    handle.release();
    assertEquals(1, frees.get());
    assertThrows(HandleClosedException.class, handle::acquire);
    assertTrue(!handle.close());
    assertEquals(1, frees.get());
  }

  @Test
  void concurrentClosesFreeOnce() throws Exception {
    for (int round = 0; round < 200; round++) {
      AtomicInteger frees = new AtomicInteger();
      NativeHandle handle = new NativeHandle(7, pointer -> frees.incrementAndGet());
      CountDownLatch start = new CountDownLatch(1);
      List<Thread> threads = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        Thread thread =
            new Thread(
                () -> {
                  try {
                    start.await();
                    for (int i = 0; i < 100; i++) {
                      try {
                        handle.acquire();
                        handle.release();
                      } catch (HandleClosedException expected) {
                        break;
                      }
                    }
                    handle.close();
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                });
        threads.add(thread);
        thread.start();
      }
      start.countDown();
      for (Thread thread : threads) {
        thread.join();
      }
      assertEquals(1, frees.get(), "round " + round);
    }
  }

  @Test
  void panicBecomesInternalException() {
    InternalException e = assertThrows(InternalException.class, MqsealCipher::debugForcePanic);
    assertEquals(ErrorCodes.PANIC, e.code());
    assertEquals("panic", e.codeName());
    assertTrue(e.getMessage().contains("debugForcePanic"), e.getMessage());
    // The JVM and the library keep working after the panic.
    try (MqsealCipher cipher = TestKeyring.cipher(dir, "k")) {
      byte[] body = "still alive".getBytes(StandardCharsets.UTF_8);
      assertArrayEquals(body, cipher.decryptBody(cipher.encrypt(body), null));
    }
    assertThrows(InternalException.class, MqsealCipher::debugForcePanic);
  }

  /** Eight threads share a cipher whose data key changes every 10 messages. */
  @Test
  void concurrentUseStaysCorrect() throws Exception {
    Path keyring = TestKeyring.create(dir, "k");
    int threads = 8;
    int messagesPerThread = 500;
    try (MqsealCipher cipher =
        MqsealCipher.builder()
            .keyringPath(keyring)
            .keyIds("k")
            .cacheCapacity(1)
            .maxMessagesPerKey(10)
            .build()) {
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch start = new CountDownLatch(1);
      List<Future<Integer>> results = new ArrayList<>();
      for (int t = 0; t < threads; t++) {
        int thread = t;
        results.add(
            pool.submit(
                () -> {
                  start.await();
                  int checked = 0;
                  List<byte[]> envelopes = new ArrayList<>();
                  List<byte[]> bodies = new ArrayList<>();
                  for (int i = 0; i < messagesPerThread; i++) {
                    Map<String, String> context = Map.of("topic", "t" + thread);
                    byte[] body = ("thread " + thread + " message " + i).getBytes();
                    byte[] envelope = cipher.encrypt(body, context);
                    envelopes.add(envelope);
                    bodies.add(body);
                    assertArrayEquals(body, cipher.decryptBody(envelope, context));
                    checked++;
                  }
                  // Older envelopes need keys that the one-entry cache has evicted.
                  for (int i = 0; i < envelopes.size(); i += 7) {
                    assertArrayEquals(
                        bodies.get(i),
                        cipher.decryptBody(envelopes.get(i), Map.of("topic", "t" + thread)));
                    checked++;
                  }
                  return checked;
                }));
      }
      start.countDown();
      int total = 0;
      for (Future<Integer> result : results) {
        total += result.get(120, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertTrue(total > threads * messagesPerThread);
      Counters counters = cipher.counters();
      assertEquals(threads * messagesPerThread, counters.encrypted());
      assertEquals(total, counters.decrypted());
      assertEquals(0, counters.decryptFailures());
      assertTrue(
          counters.dataKeysCreated() >= threads * messagesPerThread / 10,
          "data keys created: " + counters.dataKeysCreated());
    }
  }

  /** Closing while other threads encrypt must end their calls cleanly, never crash. */
  @Test
  void closeWhileEncryptingNeverCrashes() throws Exception {
    Path keyring = TestKeyring.create(dir, "k");
    for (int round = 0; round < 20; round++) {
      MqsealCipher cipher = MqsealCipher.builder().keyringPath(keyring).keyIds("k").build();
      int threads = 8;
      ExecutorService pool = Executors.newFixedThreadPool(threads);
      CountDownLatch running = new CountDownLatch(threads);
      List<Future<?>> futures = new ArrayList<>();
      byte[] body = new byte[16 * 1024];
      for (int t = 0; t < threads; t++) {
        futures.add(
            pool.submit(
                () -> {
                  running.countDown();
                  while (true) {
                    try {
                      byte[] envelope = cipher.encrypt(body);
                      cipher.decryptBody(envelope, null);
                    } catch (HandleClosedException closed) {
                      return;
                    }
                  }
                }));
      }
      running.await();
      Thread.sleep(5);
      cipher.close();
      for (Future<?> future : futures) {
        future.get(60, TimeUnit.SECONDS);
      }
      pool.shutdown();
      assertThrows(HandleClosedException.class, () -> cipher.encrypt(body));
    }
  }
}
