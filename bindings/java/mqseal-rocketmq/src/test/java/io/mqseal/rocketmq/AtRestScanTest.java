package io.mqseal.rocketmq;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
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
    Set<String> plaintext = Markers.plaintextMarkers();
    Set<String> control = Markers.controlMarkers();
    assertFalse(plaintext.isEmpty(), "no test registered plaintext markers; run the whole suite");
    assertFalse(control.isEmpty(), "no test registered control markers; run the whole suite");

    RocketMqBroker.Handle broker = RocketMqBroker.get();
    Path clientLogs = Path.of(System.getProperty("mqseal.test.logdir", "target/test-logs"));
    Path mqsealLog = Path.of(System.getProperty("mqseal.test.logfile", "target/mqseal-test.log"));
    List<Path> roots = List.of(broker.storeDir(), broker.logDir(), clientLogs, mqsealLog);
    assertTrue(
        Files.size(clientLogs.resolve("rocketmq_client.log")) > 0,
        "empty client log in " + clientLogs);
    assertTrue(Files.size(mqsealLog) > 0, "empty mqseal log " + mqsealLog);
    AtRestScanner.Result result =
        AtRestScanner.scan(
            roots, List.of(Markers.PLAINTEXT_PREFIX, Markers.CONTROL_PREFIX), Markers.ID_LENGTH);

    Set<String> leaked = new HashSet<>(result.found());
    leaked.retainAll(plaintext);
    Set<String> controlFound = new HashSet<>(result.found());
    controlFound.retainAll(control);

    System.out.printf(
        "at-rest scan: %d files, %d bytes under %s; plaintext markers %d registered, %d found;"
            + " control markers %d registered, %d found%n",
        result.files(),
        result.bytes(),
        roots,
        plaintext.size(),
        leaked.size(),
        control.size(),
        controlFound.size());
    assertTrue(result.bytes() > 0, "the scan read nothing under " + roots);
    assertEquals(Set.of(), leaked, "plaintext markers found at rest under " + roots);
    assertEquals(
        control,
        controlFound,
        "control markers in plain properties must be found; scanned "
            + result.files()
            + " files, "
            + result.bytes()
            + " bytes");
  }
}
