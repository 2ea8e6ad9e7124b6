package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.rocketmq.common.testing.AtRestScanner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs after every other test class (see junit-platform.properties) and scans the broker's store,
 * the broker's logs, the RocketMQ client's log and mqseal's own log for the plaintext markers of
 * every message mqseal encrypted in this run.
 */
@ExtendWith(RocketMqBroker.class)
@Order(Integer.MAX_VALUE)
class AtRestScanTest {
  @Test
  void noPlaintextAtRest() throws Exception {
    RocketMqBroker.Handle broker = RocketMqBroker.get();
    Path clientLogs = Path.of(System.getProperty("mqseal.test.logdir", "target/test-logs"));
    Path mqsealLog = Path.of(System.getProperty("mqseal.test.logfile", "target/mqseal-test.log"));
    List<Path> roots = List.of(broker.storeDir(), broker.logDir(), clientLogs, mqsealLog);
    assertTrue(
        Files.size(clientLogs.resolve("rocketmq_client.log")) > 0,
        "empty client log in " + clientLogs);
    assertTrue(Files.size(mqsealLog) > 0, "empty mqseal log " + mqsealLog);
    AtRestScanner.assertNoPlaintext(roots);
  }
}
