package io.mqseal.rocketmq.common.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code tests/rocketmq/rmq.sh}, the local RocketMQ harness, for the integration tests of
 * mqseal-rocketmq and mqseal-rocketmq5.
 *
 * <p>The script is found under the repository root that the system property {@code mqseal.root}
 * names (default {@code ../../..}, the root seen from a module directory). An owned harness was
 * started by the test run, so {@link #close()} stops it; a shared one belongs to whoever started it
 * and is left running.
 */
public final class RmqHarness implements AutoCloseable {
  private final Path script;
  private final Map<String, String> environment;
  private final boolean owned;
  private volatile boolean stopped;

  private RmqHarness(Path script, Map<String, String> environment, boolean owned) {
    this.script = script;
    this.environment = Map.copyOf(environment);
    this.owned = owned;
  }

  /**
   * Returns a harness that runs rmq.sh with {@code environment} added to the process environment.
   *
   * @param owned true when this test run starts and stops RocketMQ itself
   */
  public static RmqHarness locate(Map<String, String> environment, boolean owned) {
    Path root = Path.of(System.getProperty("mqseal.root", "../../..")).toAbsolutePath().normalize();
    Path script = root.resolve("tests/rocketmq/rmq.sh");
    if (!Files.isExecutable(script)) {
      throw new IllegalStateException(
          "RocketMQ harness not found at "
              + script
              + "; set the system property mqseal.root to the repository root");
    }
    return new RmqHarness(script, environment, owned);
  }

  /**
   * Runs {@code rmq.sh start} with {@code options} (for example {@code --proxy}) and registers a
   * shutdown hook that stops RocketMQ if the run ends without {@link #close()}.
   */
  public void start(long timeoutSeconds, String... options) {
    Runtime.getRuntime().addShutdownHook(new Thread(this::stopQuietly, "rmq-stop"));
    List<String> args = new ArrayList<>();
    args.add("start");
    args.addAll(List.of(options));
    run(timeoutSeconds, args.toArray(new String[0]));
  }

  /** Returns the value of {@code name} from the export lines of {@code rmq.sh env}. */
  public String envValue(String name) {
    String prefix = "export " + name + "=";
    for (String line : run(30, "env").split("\n")) {
      if (line.startsWith(prefix)) {
        return line.substring(prefix.length()).replace("'", "");
      }
    }
    throw new IllegalStateException("rmq.sh env printed no " + name);
  }

  /** Stops RocketMQ when this run started it; does nothing otherwise or when already stopped. */
  @Override
  public void close() {
    if (owned && !stopped) {
      stopped = true;
      run(120, "stop");
    }
  }

  /** Like {@link #close()}, but reports a failure on standard error instead of throwing. */
  public void stopQuietly() {
    try {
      close();
    } catch (RuntimeException e) {
      System.err.println("rmq.sh stop failed: " + e.getMessage());
    }
  }

  /**
   * Runs rmq.sh with {@code args} and returns its standard output. Its error output goes to the
   * test's standard error.
   *
   * @throws IllegalStateException when it exits non-zero or runs longer than {@code
   *     timeoutSeconds}
   */
  public String run(long timeoutSeconds, String... args) {
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
