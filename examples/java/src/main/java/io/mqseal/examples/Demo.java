package io.mqseal.examples;

import io.mqseal.MqsealCipher;
import io.mqseal.MqsealKeyring;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;

/**
 * Sends encrypted messages through a RocketMQ broker and decrypts them. Then it checks that no
 * plaintext reached the broker's disk or the logs, and with --compare-plain it measures the same
 * run without encryption. Exits 1 when a count does not match or plaintext was found, and 2 on bad
 * arguments.
 *
 * <p>The keyring is generated at start in a temporary directory and deleted at exit, unless
 * --keyring names an existing one.
 */
public final class Demo {
  private static final String KEY_NAME = "demo";

  private Demo() {}

  public static void main(String[] args) throws Exception {
    DemoOptions options;
    try {
      options = DemoOptions.parse(args);
    } catch (IllegalArgumentException e) {
      System.err.println("demo: " + e.getMessage() + "\n\n" + DemoOptions.USAGE);
      System.exit(2);
      return;
    }
    System.exit(run(options) ? 0 : 1);
  }

  private static boolean run(DemoOptions options) throws Exception {
    System.out.printf(
        "mqseal demo: %d messages of %d bytes through %s%n",
        options.messages, options.bodySize, options.namesrv);

    Markers secrets = new Markers("DEMO-SECRET-");
    Markers plainBodies = new Markers("DEMO-PLAINBODY-");
    String control = new Markers("DEMO-CONTROL-").next();
    String runId = Long.toString(System.currentTimeMillis(), 36);
    Path keyDir = Files.createTempDirectory("mqseal-demo-keys");
    DemoRun.Result demo;
    List<DemoRun.Result> encryptedRounds = new ArrayList<>();
    List<DemoRun.Result> plainRounds = new ArrayList<>();
    Path keyring = options.keyring != null ? options.keyring : keyDir.resolve("keyring");
    try (MqsealCipher cipher = options.keyring != null ? openCipher(keyring) : newCipher(keyring)) {
      demo =
          new DemoRun(
                  options,
                  options.messages,
                  options.topic,
                  "demo-" + runId,
                  "demo-" + runId,
                  cipher,
                  secrets,
                  control)
              .run();
      int count = options.compareMessages;
      for (int round = 1; options.comparePlain && round <= options.rounds; round++) {
        // Alternate which mode goes first, so warm-up and caches favour neither.
        for (boolean encrypted : round % 2 == 1 ? BOTH_ORDERS[0] : BOTH_ORDERS[1]) {
          // Tags and groups carry the run id, so earlier runs on the same topics stay invisible.
          String tag = (encrypted ? "enc" : "plain") + round + "-" + runId;
          String group = "demo-" + tag;
          if (encrypted) {
            encryptedRounds.add(
                new DemoRun(options, count, options.topic, tag, group, cipher, secrets, null)
                    .run());
          } else {
            plainRounds.add(
                new DemoRun(options, count, options.plainTopic, tag, group, null, plainBodies, null)
                    .run());
          }
        }
      }
    } finally {
      deleteRecursively(keyDir);
    }

    boolean countsMatch = demo.complete();
    System.out.printf(
        "encrypted run: sent %d, received %d, decrypted %d of %d (bodies and sealed properties"
            + " match: %s)%n",
        demo.sent(),
        demo.received(),
        demo.verified(),
        options.messages,
        demo.verified() == options.messages ? "yes" : "NO");

    boolean scanPassed = scan(options, secrets, control, options.comparePlain ? plainBodies : null);

    printThroughput("encrypted", List.of(demo));
    if (options.comparePlain) {
      for (DemoRun.Result result : encryptedRounds) {
        countsMatch &= checkComplete("encrypted", result);
      }
      for (DemoRun.Result result : plainRounds) {
        countsMatch &= checkComplete("plain", result);
      }
      System.out.printf(
          "comparison: %d rounds of %d messages each, alternating which mode goes first%n",
          options.rounds, options.compareMessages);
      double encryptedRate = printThroughput("encrypted", encryptedRounds);
      double plainRate = printThroughput("plain", plainRounds);
      System.out.printf(
          "encrypted vs plain: %.0f%% of the plain message rate (medians)%n",
          100 * encryptedRate / plainRate);
    }

    boolean passed = countsMatch && scanPassed;
    System.out.println("demo result: " + (passed ? "PASS" : "FAIL"));
    return passed;
  }

  private static final boolean[][] BOTH_ORDERS = {{true, false}, {false, true}};

  /** Prints the counts of an incomplete comparison run; returns whether the run was complete. */
  private static boolean checkComplete(String label, DemoRun.Result result) {
    if (!result.complete()) {
      System.out.printf(
          "comparison run (%s) incomplete: sent %d, received %d, matching %d of %d; %d sends"
              + " failed%n",
          label,
          result.sent(),
          result.received(),
          result.verified(),
          result.expected(),
          result.sendFailures());
    }
    return result.complete();
  }

  private static MqsealCipher newCipher(Path keyring) {
    MqsealKeyring.generate(keyring, KEY_NAME);
    return openCipher(keyring);
  }

  private static MqsealCipher openCipher(Path keyring) {
    return MqsealCipher.builder().keyringPath(keyring).keyIds(KEY_NAME).build();
  }

  /**
   * Scans the store and logs. Returns true when no secret marker (body or sealed property of an
   * encrypted message) was found and every control marker was.
   */
  private static boolean scan(
      DemoOptions options, Markers secrets, String control, Markers plainBodies)
      throws IOException {
    List<Path> roots = new ArrayList<>();
    roots.add(options.storeDir);
    roots.addAll(options.logDirs);
    AtRestScan.Result leaked = AtRestScan.scan(roots, secrets.prefix(), Markers.ID_LENGTH);
    Set<String> secretHits = new HashSet<>(leaked.found());
    secretHits.retainAll(secrets.issued());
    AtRestScan.Result controls = AtRestScan.scan(roots, "DEMO-CONTROL-", Markers.ID_LENGTH);
    boolean controlFound = controls.found().contains(control);

    System.out.printf(
        "at-rest scan: %d files, %.1f MiB under %s%n",
        leaked.files(), leaked.bytes() / (1024.0 * 1024.0), roots);
    System.out.printf(
        "  markers of encrypted messages found (bodies and sealed properties): %d of %d%n",
        secretHits.size(), secrets.issued().size());
    System.out.printf(
        "  positive control found (marker in a plain property): %s%n", controlFound ? "yes" : "NO");
    boolean plainBodiesFound = true;
    if (plainBodies != null) {
      Set<String> bodyHits =
          new HashSet<>(AtRestScan.scan(roots, plainBodies.prefix(), Markers.ID_LENGTH).found());
      bodyHits.retainAll(plainBodies.issued());
      plainBodiesFound = bodyHits.size() == plainBodies.issued().size();
      System.out.printf(
          "  positive control found (bodies of the unencrypted run): %d of %d%n",
          bodyHits.size(), plainBodies.issued().size());
    }
    return secretHits.isEmpty() && controlFound && plainBodiesFound;
  }

  /** Prints the message and byte rates of {@code results}; returns the median message rate. */
  private static double printThroughput(String label, List<DemoRun.Result> results) {
    List<DemoRun.Result> sorted = new ArrayList<>(results);
    sorted.sort(Comparator.comparingDouble(DemoRun.Result::messagesPerSecond));
    DemoRun.Result median = sorted.get(sorted.size() / 2);
    StringBuilder rounds = new StringBuilder();
    for (DemoRun.Result result : results) {
      rounds
          .append(rounds.length() == 0 ? "" : ", ")
          .append(String.format("%.0f", result.messagesPerSecond()));
    }
    System.out.printf(
        "throughput %-9s: %.0f msg/s, %.2f MiB/s of plaintext (%s; %d messages in %.2f s)%n",
        label,
        median.messagesPerSecond(),
        median.mebibytesPerSecond(),
        results.size() == 1 ? "one run" : "median of " + rounds + " msg/s",
        median.received(),
        median.elapsedNanos() / 1e9);
    return median.messagesPerSecond();
  }

  private static void deleteRecursively(Path dir) throws IOException {
    try (Stream<Path> walk = Files.walk(dir)) {
      for (Path path : walk.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }
}
