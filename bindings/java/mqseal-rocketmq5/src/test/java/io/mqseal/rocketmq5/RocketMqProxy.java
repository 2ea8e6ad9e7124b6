package io.mqseal.rocketmq5;

import io.mqseal.rocketmq.common.testing.RmqHarness;
import java.nio.file.Path;
import java.util.Map;
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
    RmqHarness harness = RmqHarness.locate(Map.of("MQSEAL_RMQ_DIR", stateDir), owned);
    if (owned) {
      harness.start(240, "--proxy");
      endpoint = harness.envValue("MQSEAL_RMQ_PROXY_ENDPOINT");
    }
    Handle handle =
        new Handle(
            harness,
            endpoint,
            Path.of(harness.run(30, "store-dir").trim()),
            Path.of(harness.run(30, "log-dir").trim()));
    TestNames.create(harness);
    current = handle;
    return handle;
  }

  /** The running proxy: its gRPC endpoint, directories, and the harness that controls it. */
  static final class Handle implements ExtensionContext.Store.CloseableResource {
    private final RmqHarness harness;
    private final String endpoint;
    private final Path storeDir;
    private final Path logDir;

    Handle(RmqHarness harness, String endpoint, Path storeDir, Path logDir) {
      this.harness = harness;
      this.endpoint = endpoint;
      this.storeDir = storeDir;
      this.logDir = logDir;
    }

    /** Returns the broker's store directory, which holds the commit log. */
    Path storeDir() {
      return storeDir;
    }

    /** Returns the directory of the NameServer's and proxy's logs. */
    Path logDir() {
      return logDir;
    }

    /** Returns the proxy's gRPC endpoint, {@code 127.0.0.1:PORT}. */
    String endpoint() {
      return endpoint;
    }

    @Override
    public void close() {
      harness.close();
    }
  }
}
