package io.mqseal.rocketmq;

import io.mqseal.rocketmq.common.testing.RmqHarness;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
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
    RmqHarness harness = RmqHarness.locate(environment, owned);
    if (owned) {
      harness.start(240);
      namesrv = harness.envValue("MQSEAL_RMQ_NAMESRV_ADDR");
    }
    Handle handle = new Handle(harness);
    handle.namesrvAddr = namesrv;
    handle.storeDir = Path.of(harness.run(30, "store-dir").trim());
    handle.logDir = Path.of(harness.run(30, "log-dir").trim());

    List<String> topicArgs = new ArrayList<>();
    topicArgs.add("topic");
    topicArgs.addAll(TestTopics.all());
    harness.run(300, topicArgs.toArray(new String[0]));
    current = handle;
    return handle;
  }

  /** The running broker: addresses, directories, and the harness that controls it. */
  static final class Handle implements ExtensionContext.Store.CloseableResource {
    private final RmqHarness harness;
    String namesrvAddr;
    Path storeDir;
    Path logDir;

    Handle(RmqHarness harness) {
      this.harness = harness;
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
      harness.close();
    }
  }
}
