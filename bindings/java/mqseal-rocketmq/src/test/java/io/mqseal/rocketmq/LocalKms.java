package io.mqseal.rocketmq;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The local-kms server that scripts/test-java.sh starts with tests/kms/local-kms.sh and describes
 * in MQSEAL_KMS_* environment variables; tests stop, start and change it through the same script.
 */
final class LocalKms {
  private LocalKms() {}

  /** Returns the value of an environment variable that local-kms.sh wrote. */
  static String var(String name) {
    String value = System.getenv(name);
    if (value == null || value.isEmpty()) {
      throw new IllegalStateException(
          name
              + " is not set: run the tests through scripts/test-java.sh (make test-java), which"
              + " starts local-kms and exports its environment");
    }
    return value;
  }

  /** Returns configuration text for the AWS KMS provider of the running local-kms. */
  static String config(String keyId, String extra) {
    StringBuilder text = new StringBuilder();
    text.append("provider = aws-kms\n");
    text.append("aws_kms.region = ").append(var("MQSEAL_KMS_REGION")).append('\n');
    text.append("aws_kms.endpoint = ").append(var("MQSEAL_KMS_ENDPOINT")).append('\n');
    if (keyId != null) {
      text.append("key_id = ").append(keyId).append('\n');
    }
    return text.append(extra).toString();
  }

  static void stop() {
    run("stop");
  }

  /** Starts the server again on the same port, with the keys and states it had. */
  static void start() {
    run("start");
  }

  static void disable(String keyId) {
    run("disable", keyId);
  }

  static void enable(String keyId) {
    run("enable", keyId);
  }

  private static void run(String... args) {
    Path root = Path.of(System.getProperty("mqseal.root", "../../..")).toAbsolutePath().normalize();
    Path script = root.resolve("tests/kms/local-kms.sh");
    String[] command = new String[args.length + 2];
    command[0] = "bash";
    command[1] = script.toString();
    System.arraycopy(args, 0, command, 2, args.length);
    try {
      Path log = Files.createTempFile("local-kms", ".log");
      Process process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(log.toFile())
              .start();
      boolean done = process.waitFor(60, TimeUnit.SECONDS);
      String output = Files.readString(log, StandardCharsets.UTF_8);
      Files.deleteIfExists(log);
      if (!done) {
        process.destroyForcibly();
        throw new IllegalStateException("local-kms.sh " + String.join(" ", args) + " hung");
      }
      if (process.exitValue() != 0) {
        throw new IllegalStateException(
            "local-kms.sh " + String.join(" ", args) + " failed: " + output);
      }
    } catch (IOException e) {
      throw new IllegalStateException("cannot run " + script, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while running " + script, e);
    }
  }
}
