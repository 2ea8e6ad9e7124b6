package io.mqseal;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Loads the library in child JVMs, so each test starts from a JVM that has not loaded it yet. */
class NativeLoaderTest {
  @TempDir Path dir;

  private record Result(int status, String output) {}

  private static Result runProbe(String... properties) throws IOException, InterruptedException {
    List<String> command = new ArrayList<>();
    command.add(Paths.get(System.getProperty("java.home"), "bin", "java").toString());
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    for (String property : properties) {
      command.add("-D" + property);
    }
    command.add(LoaderProbe.class.getName());
    Process process = new ProcessBuilder(command).redirectErrorStream(true).start();
    assertTrue(process.waitFor(60, TimeUnit.SECONDS), "probe JVM timed out");
    String output = new String(process.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    return new Result(process.exitValue(), output);
  }

  @Test
  void platformNameUsesTheJarScheme() {
    String platform = NativeLoader.platform();
    assertTrue(platform.matches("[a-z0-9]+-[a-z0-9_]+"), platform);
    assertEquals(
        "/META-INF/native/" + platform + "/" + System.mapLibraryName("mqseal_jni-"
            + NativeLoader.jarVersion()),
        NativeLoader.resourcePath(platform));
  }

  @Test
  void extractsToConfiguredDirectory() throws Exception {
    Path extractDir = dir.resolve("extract");
    Result result = runProbe("mqseal.native.dir=" + extractDir, "java.library.path=" + dir);
    assertEquals(0, result.status(), result.output());
    assertTrue(result.output().contains("native version " + NativeLoader.jarVersion()),
        result.output());
    Path extracted = extractDir.resolve(NativeLoader.versionedFileName());
    assertTrue(Files.isRegularFile(extracted), "missing " + extracted);

    // A second JVM reuses the extracted file, and leaves no temporary files behind.
    Result again = runProbe("mqseal.native.dir=" + extractDir, "java.library.path=" + dir);
    assertEquals(0, again.status(), again.output());
    try (var files = Files.list(extractDir)) {
      assertEquals(List.of(extracted), files.toList());
    }
  }

  @Test
  void explicitPathFailureListsWhatWasTried() throws Exception {
    Path missing = dir.resolve("libmqseal_jni.so");
    Result result = runProbe("mqseal.native.path=" + missing);
    assertNotEquals(0, result.status());
    String output = result.output();
    assertTrue(output.contains("UnsatisfiedLinkError"), output);
    assertTrue(output.contains(missing.toString()), output);
    assertTrue(output.contains(NativeLoader.platform()), output);
    assertTrue(output.contains("-Dmqseal.native.path="), output);
    assertTrue(output.contains("-Dmqseal.native.dir="), output);
  }

  @Test
  void explicitPathLoadsThatFile() throws Exception {
    Path extractDir = dir.resolve("first");
    assertEquals(0, runProbe("mqseal.native.dir=" + extractDir).status());
    Path copy = dir.resolve("copy").resolve(System.mapLibraryName("mqseal_jni"));
    Files.createDirectories(copy.getParent());
    Files.copy(extractDir.resolve(NativeLoader.versionedFileName()), copy);
    Result result = runProbe("mqseal.native.path=" + copy, "org.slf4j.simpleLogger.defaultLogLevel=info");
    assertEquals(0, result.status(), result.output());
    assertTrue(result.output().contains(copy.toString()), result.output());
  }
}
