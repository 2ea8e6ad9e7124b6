package io.mqseal.rocketmq5;

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
 * JUnit extension that provides one real NameServer and Proxy in local mode (which runs the broker)
 * for the whole test run.
 *
 * <p>When {@code MQSEAL_RMQ_PROXY_ENDPOINT} is set, the tests use that running proxy, and {@code
 * MQSEAL_RMQ_DIR} must name its state directory, because topics and groups are created through
 * {@code rmq.sh}. Otherwise the extension runs {@code tests/rocketmq/rmq.sh start --proxy} once, in
 * a state directory under {@code target/}, and {@code rmq.sh stop} when the run ends, failed or
 * not. Either way it creates every topic and group of {@link TestNames} before the first test,
 * because gRPC clients fail to start for a topic that does not exist.
 */
public final class RocketMqProxy implements BeforeAllCallback {
  private static final ExtensionContext.Namespace NAMESPACE =
      ExtensionContext.Namespace.create(RocketMqProxy.class);

  private static volatile Handle current;

  @Override
  public void beforeAll(ExtensionContext context) {
    context
        .getRoot()
        .getStore(NAMESPACE)
        .getOrComputeIfAbsent("proxy", key -> start(), Handle.class);
  }

  /** Returns the proxy of this run; only valid in classes that use the extension. */
  static Handle get() {
    Handle handle = current;
    if (handle == null) {
      throw new IllegalStateException(
          "no proxy: annotate the test class with @ExtendWith(RocketMqProxy.class)");
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
    String endpoint = System.getenv("MQSEAL_RMQ_PROXY_ENDPOINT");
    boolean owned = endpoint == null || endpoint.isEmpty();
    String stateDir = System.getenv("MQSEAL_RMQ_DIR");
    if (stateDir == null || stateDir.isEmpty()) {
      if (!owned) {
        throw new IllegalStateException(
            "MQSEAL_RMQ_PROXY_ENDPOINT is set but MQSEAL_RMQ_DIR is not; set it to the state"
                + " directory of the running proxy");
      }
      stateDir = Path.of("target", "rmq").toAbsolutePath().toString();
    }
    environment.put("MQSEAL_RMQ_DIR", stateDir);
    Handle handle = new Handle(script, environment, owned);
    if (owned) {
      Runtime.getRuntime().addShutdownHook(new Thread(handle::stopQuietly, "rmq-stop"));
      handle.run(240, "start", "--proxy");
      endpoint = handle.envValue("MQSEAL_RMQ_PROXY_ENDPOINT");
    }
    handle.endpoint = endpoint;
    TestNames.create(handle);
    current = handle;
    return handle;
  }

  /** The running proxy: its gRPC endpoint, and the rmq.sh that controls it. */
  static final class Handle implements ExtensionContext.Store.CloseableResource {
    private final Path script;
    private final Map<String, String> environment;
    private final boolean owned;
    private volatile boolean stopped;
    String endpoint;

    Handle(Path script, Map<String, String> environment, boolean owned) {
      this.script = script;
      this.environment = environment;
      this.owned = owned;
    }

    /** Returns the proxy's gRPC endpoint, {@code 127.0.0.1:PORT}. */
    String endpoint() {
      return endpoint;
    }

    @Override
    public void close() {
      if (owned && !stopped) {
        stopped = true;
        run(120, "stop");
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
      for (String line : run(30, "env").split("\n")) {
        String prefix = "export " + name + "=";
        if (line.startsWith(prefix)) {
          return line.substring(prefix.length()).replace("'", "");
        }
      }
      throw new IllegalStateException("rmq.sh env printed no " + name);
    }

    /** Runs rmq.sh with {@code args} and returns its standard output; fails on a non-zero exit. */
    String run(long timeoutSeconds, String... args) {
      List<String> command = new ArrayList<>();
      command.add(script.toString());
      command.addAll(List.of(args));
      ProcessBuilder builder = new ProcessBuilder(command);
      builder.environment().putAll(environment);
      builder.redirectError(ProcessBuilder.Redirect.INHERIT);
      try {
        Process process = builder.start();
        byte[] output;
        try (InputStream stdout = process.getInputStream()) {
          output = stdout.readAllBytes();
        }
        if (!process.waitFor(timeoutSeconds, TimeUnit.SECONDS)) {
          process.destroyForcibly();
          throw new IllegalStateException(
              "rmq.sh " + String.join(" ", args) + " timed out after " + timeoutSeconds + " s");
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
