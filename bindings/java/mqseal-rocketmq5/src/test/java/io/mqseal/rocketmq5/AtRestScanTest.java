package io.mqseal.rocketmq5;

import static org.junit.jupiter.api.Assertions.assertTrue;

import io.mqseal.rocketmq.common.testing.AtRestScanner;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Runs after every other test class and scans the broker's store, the proxy's and NameServer's
 * logs, the gRPC client's log and mqseal's own log for the plaintext markers of every body and
 * sealed property mqseal encrypted in this run. Control markers, in plain properties and in a body
 * sent unencrypted on purpose, must be found.
 */
@ExtendWith(RocketMqProxy.class)
@Order(Integer.MAX_VALUE)
class AtRestScanTest {
  @Test
  void noPlaintextAtRest() throws Exception {
    RocketMqProxy.Handle proxy = RocketMqProxy.get();
    Path clientLogs = Path.of(System.getProperty("mqseal.test.logdir", "target/test-logs"));
    Path mqsealLog = Path.of(System.getProperty("mqseal.test.logfile", "target/mqseal-test.log"));
    List<Path> roots = List.of(proxy.storeDir(), proxy.logDir(), clientLogs, mqsealLog);
    assertTrue(
        Files.size(clientLogs.resolve("rocketmq-client.log")) > 0,
        "empty client log in " + clientLogs);
    assertTrue(Files.size(mqsealLog) > 0, "empty mqseal log " + mqsealLog);
    AtRestScanner.assertNoPlaintext(roots);
  }
}
