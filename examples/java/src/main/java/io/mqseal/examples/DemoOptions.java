package io.mqseal.examples;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** Command-line options of {@link Demo}. */
final class DemoOptions {
  static final String USAGE =
      String.join(
          "\n",
          "Usage: Demo --namesrv HOST:PORT --store-dir DIR [options]",
          "",
          "  --namesrv HOST:PORT    NameServer address (required)",
          "  --store-dir DIR        broker store directory, scanned for plaintext (required)",
          "  --log-dir DIR          a log directory to scan too; repeat for several",
          "  --topic NAME           topic for encrypted messages (default mqseal-demo)",
          "  --plain-topic NAME     topic for the unencrypted comparison (default"
              + " mqseal-demo-plain)",
          "  --messages N           messages per run (default 1000)",
          "  --body-size BYTES      plaintext body size, at least 64 (default 300)",
          "  --compare-plain        also measure throughput with and without encryption",
          "  --rounds N             rounds of that comparison, each mode once per round (default"
              + " 3)",
          "  --timeout-seconds N    how long to wait for the consumer per run (default 120)",
          "  --keyring PATH         existing keyring file with key 'demo' (default: a new keyring",
          "                         in a temporary directory, deleted at exit)");

  String namesrv;
  Path storeDir;
  final List<Path> logDirs = new ArrayList<>();
  String topic = "mqseal-demo";
  String plainTopic = "mqseal-demo-plain";
  int messages = 1000;
  int bodySize = 300;
  boolean comparePlain;
  int rounds = 3;
  int compareMessages = 10_000;
  int timeoutSeconds = 120;
  Path keyring;

  /** Parses {@code args}; throws IllegalArgumentException with a message naming the bad option. */
  static DemoOptions parse(String[] args) {
    DemoOptions options = new DemoOptions();
    for (int i = 0; i < args.length; i++) {
      String option = args[i];
      switch (option) {
        case "--compare-plain" -> options.comparePlain = true;
        case "--namesrv" -> options.namesrv = value(args, ++i, option);
        case "--store-dir" -> options.storeDir = Path.of(value(args, ++i, option));
        case "--log-dir" -> options.logDirs.add(Path.of(value(args, ++i, option)));
        case "--topic" -> options.topic = value(args, ++i, option);
        case "--plain-topic" -> options.plainTopic = value(args, ++i, option);
        case "--messages" -> options.messages = number(args, ++i, option, 1);
        case "--body-size" -> options.bodySize = number(args, ++i, option, 64);
        case "--rounds" -> options.rounds = number(args, ++i, option, 1);
        case "--compare-messages" -> options.compareMessages = number(args, ++i, option, 1);
        case "--timeout-seconds" -> options.timeoutSeconds = number(args, ++i, option, 1);
        case "--keyring" -> options.keyring = Path.of(value(args, ++i, option));
        default -> throw new IllegalArgumentException("unknown option '" + option + "'");
      }
    }
    if (options.namesrv == null) {
      throw new IllegalArgumentException("missing --namesrv");
    }
    if (options.storeDir == null) {
      throw new IllegalArgumentException("missing --store-dir");
    }
    return options;
  }

  private static String value(String[] args, int index, String option) {
    if (index >= args.length) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return args[index];
  }

  private static int number(String[] args, int index, String option, int minimum) {
    String text = value(args, index, option);
    int number;
    try {
      number = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(option + " needs a whole number, got '" + text + "'");
    }
    if (number < minimum) {
      throw new IllegalArgumentException(
          option + " must be at least " + minimum + ", got " + number);
    }
    return number;
  }
}
