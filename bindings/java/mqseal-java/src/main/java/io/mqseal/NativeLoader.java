package io.mqseal;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileSystems;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Properties;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Loads the native library mqseal_jni, in this order:
 *
 * <ol>
 *   <li>the file named by the system property {@code mqseal.native.path}, when it is set, and
 *       nothing else;
 *   <li>{@code System.loadLibrary("mqseal_jni")}, which searches {@code java.library.path};
 *   <li>the copy packed in the jar at {@code META-INF/native/<os>-<arch>/} under a versioned file
 *       name, extracted to the directory named by the system property {@code mqseal.native.dir},
 *       else the environment variable {@code MQSEAL_NATIVE_DIR}, else a per-user directory under
 *       {@code java.io.tmpdir}.
 * </ol>
 *
 * <p>Extraction writes a temporary file in the target directory and renames it into place
 * atomically, so concurrent JVMs never load a half-written library. When every way fails, the
 * {@link UnsatisfiedLinkError} lists the platform, each path tried with its error, and the
 * overrides.
 */
final class NativeLoader {
  static final String LIBRARY = "mqseal_jni";
  static final String PATH_PROPERTY = "mqseal.native.path";
  static final String DIR_PROPERTY = "mqseal.native.dir";
  static final String DIR_ENVIRONMENT = "MQSEAL_NATIVE_DIR";

  private static final Logger LOG = LoggerFactory.getLogger(NativeLoader.class);

  private static boolean loaded;
  private static String loadedFrom;

  private NativeLoader() {}

  /** Loads the library once per class loader; later calls return at once. */
  static synchronized void load() {
    if (loaded) {
      return;
    }
    String platform = platform();
    List<String> attempts = new ArrayList<>();

    String explicit = System.getProperty(PATH_PROPERTY);
    if (explicit != null && !explicit.isBlank()) {
      if (tryLoad(Paths.get(explicit).toAbsolutePath().toString(), attempts)) {
        return;
      }
      throw failure(platform, attempts);
    }

    try {
      System.loadLibrary(LIBRARY);
      markLoaded("java.library.path");
      return;
    } catch (UnsatisfiedLinkError e) {
      attempts.add(
          "System.loadLibrary(\"" + LIBRARY + "\") on java.library.path="
              + System.getProperty("java.library.path") + ": " + e.getMessage());
    }

    String resource = resourcePath(platform);
    try {
      Path extracted = extract(resource, attempts);
      if (extracted != null && tryLoad(extracted.toString(), attempts)) {
        return;
      }
    } catch (IOException | UncheckedIOException | SecurityException e) {
      attempts.add("extracting jar resource " + resource + ": " + e);
    }
    throw failure(platform, attempts);
  }

  /**
   * Checks that the loaded library is the version this jar was built with, because a stale copy
   * on {@code java.library.path} could map error codes or settings differently.
   */
  static void checkVersion(String nativeVersion) {
    String expected = jarVersion();
    if (!expected.equals(nativeVersion)) {
      throw new UnsatisfiedLinkError(
          "mqseal native library version " + nativeVersion + " (loaded from " + loadedFrom
              + ") does not match mqseal-java " + expected + "; remove the old library from "
              + "java.library.path, or point -D" + PATH_PROPERTY + " at libmqseal_jni " + expected);
    }
  }

  private static boolean tryLoad(String path, List<String> attempts) {
    try {
      System.load(path);
      markLoaded(path);
      return true;
    } catch (UnsatisfiedLinkError e) {
      attempts.add("System.load(" + path + "): " + e.getMessage());
      return false;
    }
  }

  private static void markLoaded(String from) {
    loaded = true;
    loadedFrom = from;
    LOG.info("Loaded mqseal native library {} from {}", jarVersion(), from);
  }

  /** Returns the platform directory name, for example {@code linux-x86_64}. */
  static String platform() {
    String os = System.getProperty("os.name", "unknown").toLowerCase(Locale.ROOT);
    String arch = System.getProperty("os.arch", "unknown").toLowerCase(Locale.ROOT);
    String osName;
    if (os.startsWith("linux")) {
      osName = "linux";
    } else if (os.startsWith("mac") || os.startsWith("darwin")) {
      osName = "macos";
    } else if (os.startsWith("windows")) {
      osName = "windows";
    } else {
      osName = os.replaceAll("[^a-z0-9]", "");
    }
    String archName;
    switch (arch) {
      case "amd64":
      case "x86_64":
        archName = "x86_64";
        break;
      case "aarch64":
      case "arm64":
        archName = "aarch64";
        break;
      default:
        archName = arch.replaceAll("[^a-z0-9_]", "");
    }
    return osName + "-" + archName;
  }

  /** Returns the versioned file name of the library, for example libmqseal_jni-0.1.0.so. */
  static String versionedFileName() {
    return System.mapLibraryName(LIBRARY + "-" + jarVersion());
  }

  static String resourcePath(String platform) {
    return "/META-INF/native/" + platform + "/" + versionedFileName();
  }

  /** Returns the version of this jar, written into a resource at build time. */
  static String jarVersion() {
    try (InputStream in = NativeLoader.class.getResourceAsStream("mqseal-java.properties")) {
      if (in == null) {
        throw new IllegalStateException("resource io/mqseal/mqseal-java.properties is missing");
      }
      Properties properties = new Properties();
      properties.load(in);
      return properties.getProperty("version", "unknown");
    } catch (IOException e) {
      throw new UncheckedIOException("failed to read io/mqseal/mqseal-java.properties", e);
    }
  }

  /**
   * Extracts the jar's library for this platform and returns its path, or null (with the reason
   * in {@code attempts}) when the jar has none.
   */
  private static Path extract(String resource, List<String> attempts) throws IOException {
    byte[] library;
    try (InputStream in = NativeLoader.class.getResourceAsStream(resource)) {
      if (in == null) {
        attempts.add("jar resource " + resource + ": not in the jar, which has no library for "
            + "this platform");
        return null;
      }
      library = in.readAllBytes();
    }
    Path directory = extractionDirectory();
    Path target = directory.resolve(versionedFileName());
    if (Files.isRegularFile(target) && Arrays.equals(Files.readAllBytes(target), library)) {
      return target;
    }
    Path temporary = Files.createTempFile(directory, LIBRARY + "-", ".tmp");
    try {
      Files.write(temporary, library);
      try {
        Files.move(
            temporary, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(temporary, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } finally {
      Files.deleteIfExists(temporary);
    }
    LOG.info("Extracted mqseal native library to {}", target);
    return target;
  }

  /** Returns the configured extraction directory, or creates the private default one. */
  private static Path extractionDirectory() throws IOException {
    String configured = System.getProperty(DIR_PROPERTY);
    if (configured == null || configured.isBlank()) {
      configured = System.getenv(DIR_ENVIRONMENT);
    }
    if (configured != null && !configured.isBlank()) {
      return Files.createDirectories(Paths.get(configured).toAbsolutePath());
    }
    String user = System.getProperty("user.name", "user").replaceAll("[^A-Za-z0-9._-]", "_");
    Path directory =
        Paths.get(System.getProperty("java.io.tmpdir"), "mqseal-native-" + user).toAbsolutePath();
    boolean posix = FileSystems.getDefault().supportedFileAttributeViews().contains("posix");
    if (!Files.isDirectory(directory)) {
      if (posix) {
        Files.createDirectories(
            directory,
            PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
      } else {
        Files.createDirectories(directory);
      }
    }
    // Another user could create this path in a shared temporary directory first and plant a
    // library in it. So load only from a directory that the current user owns.
    if (posix) {
      String owner = Files.getOwner(directory).getName();
      if (!owner.equals(System.getProperty("user.name"))) {
        throw new IOException(
            directory + " is owned by " + owner + ", not by the current user; set -D"
                + DIR_PROPERTY + " to a private directory");
      }
    }
    return directory;
  }

  private static UnsatisfiedLinkError failure(String platform, List<String> attempts) {
    StringBuilder message = new StringBuilder();
    message
        .append("failed to load the mqseal native library ")
        .append(versionedFileName())
        .append(" for ")
        .append(platform)
        .append(" (os.name=")
        .append(System.getProperty("os.name"))
        .append(", os.arch=")
        .append(System.getProperty("os.arch"))
        .append("). Tried:");
    for (String attempt : attempts) {
      message.append("\n  - ").append(attempt);
    }
    message
        .append("\nTo fix: load an explicit file with -D")
        .append(PATH_PROPERTY)
        .append("=/abs/path/")
        .append(System.mapLibraryName(LIBRARY))
        .append(", or extract to a writable, executable directory with -D")
        .append(DIR_PROPERTY)
        .append("=/some/dir (or the environment variable ")
        .append(DIR_ENVIRONMENT)
        .append("), or put the library on java.library.path.");
    return new UnsatisfiedLinkError(message.toString());
  }
}
