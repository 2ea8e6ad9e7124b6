package io.mqseal.rocketmq;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * JUnit extension that provides one real NameServer and Broker for the whole test run.
 *
 * <p>When {@code MQSEAL_RMQ_NAMESRV} is set, the tests use that running broker, and {@code
 * MQSEAL_RMQ_DIR} must name its state directory (for the store and log directories that the at-rest
 * scan reads). Otherwise the extension runs {@code tests/rocketmq/rmq.sh start} once, in a state
 * directory under {@code target/}, and {@code rmq.sh stop} when the run ends, failed or not. Either
 * way it creates every topic of {@link TestTopics} with one {@code rmq.sh topic} call.
 */
public final class RocketMqBroker implements BeforeAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RocketMqBroker.class);

  private static volatile Handle current;

  @Override
  public void beforeAll(ExtensionContext context) {
    context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("broker", key -> start(), Handle.class);
  }

  /** Returns the broker of this run; only valid in classes that use the extension. */
  static Handle get() {
    Handle handle = current;
    if (handle == null) {
      throw new IllegalStateException(
          "no broker: annotate the test class with @ExtendWith(RocketMqBroker.class)");
    }
    return handle;
  }

  private static Handle start() {
    Path root = Path.of(System.getProperty("mqseal.root", "../../..")).toAbsolutePath().normalize();
    Path script = root.resolve("tests/rocketmq/rmq.sh");
    if (!Files.isExecutable(script)) {
      throw new IllegalStateException(
          "RocketMQ harness not found at "
              + script
              + "; set the system property mqseal.root to the repository root");
    }
    Map<String, String> environment = new HashMap<>();
    String namesrv = System.getenv("MQSEAL_RMQ_NAMESRV");
    boolean owned = namesrv == null || namesrv.isEmpty();
    if (owned) {
      String stateDir = System.getenv("MQSEAL_RMQ_DIR");
      if (stateDir == null || stateDir.isEmpty()) {
        stateDir = Path.of("target", "rmq").toAbsolutePath().toString();
      }
      environment.put("MQSEAL_RMQ_DIR", stateDir);
    }
    Handle handle = new Handle(script, environment, owned);
    if (owned) {
      Runtime.getRuntime().addShutdownHook(new Thread(handle::stopQuietly, "rmq-stop"));
      handle.run(Duration.START, "start");
      namesrv = handle.envValue("MQSEAL_RMQ_NAMESRV_ADDR");
    }
    handle.namesrvAddr = namesrv;
    handle.storeDir = Path.of(handle.run(Duration.SHORT, "store-dir").trim());
    handle.logDir = Path.of(handle.run(Duration.SHORT, "log-dir").trim());

    List<String> topicArgs = new ArrayList<>();
    topicArgs.add("topic");
    topicArgs.addAll(TestTopics.all());
    handle.run(Duration.TOPICS, topicArgs.toArray(new String[0]));
    current = handle;
    return handle;
  }

  /** Timeouts for rmq.sh calls. */
  private enum Duration {
    SHORT(30),
    START(240),
    TOPICS(300),
    STOP(120);

    final long seconds;

    Duration(long seconds) {
      this.seconds = seconds;
    }
  }

  /** The running broker: addresses, directories, and the rmq.sh that controls it. */
  static final class Handle implements ExtensionContext.Store.CloseableResource {
    private final Path script;
    private final Map<String, String> environment;
    private final boolean owned;
    private volatile boolean stopped;
    String namesrvAddr;
    Path storeDir;
    Path logDir;

    Handle(Path script, Map<String, String> environment, boolean owned) {
      this.script = script;
      this.environment = environment;
      this.owned = owned;
    }

    String namesrvAddr() {
      return namesrvAddr;
    }

    Path storeDir() {
      return storeDir;
    }

    Path logDir() {
      return logDir;
    }

    @Override
    public void close() {
      if (owned && !stopped) {
        stopped = true;
        run(Duration.STOP, "stop");
      }
    }

    void stopQuietly() {
      try {
        close();
      } catch (RuntimeException e) {
        System.err.println("rmq.sh stop failed: " + e.getMessage());
      }
    }

    String envValue(String name) {
      for (String line : run(Duration.SHORT, "env").split("\n")) {
        String prefix = "export " + name + "=";
        if (line.startsWith(prefix)) {
          return line.substring(prefix.length()).replace("'", "");
        }
      }
      throw new IllegalStateException("rmq.sh env printed no " + name);
    }

    /** Runs rmq.sh with {@code args} and returns its standard output; fails on a non-zero exit. */
    String run(Duration timeout, String... args) {
      List<String> command = new ArrayList<>();
      command.add(script.toString());
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command).redirectErrorStream(false);
      builder.environment().putAll(environment);
      builder.redirectError(ProcessBuilder.Redirect.INHERIT);
      try {
        Process process = builder.start();
        byte[] output;
        try (InputStream stdout = process.getInputStream()) {
          output = stdout.readAllBytes();
        }
        if (!process.waitFor(timeout.seconds, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException(
              "rmq.sh " + String.join(" ", args) + " timed out after " + timeout.seconds + " s");
        }
        if (process.exitValue() != 0) {
          throw new IllegalStateException(
              "rmq.sh "
                  + String.join(" ", args)
                  + " failed with exit code "
                  + process.exitValue()
                  + "; its error output is in the test log");
        }
        return new String(output, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw new UncheckedIOException("failed to run " + script, e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while running rmq.sh", e);
      }
    }
  }
}
