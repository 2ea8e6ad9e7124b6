package io.mqseal;

/** Entry point for {@link NativeLoaderTest}: loads the library in a fresh JVM. */
public final class LoaderProbe {
  private LoaderProbe() {}

  /** Prints the native version, or lets the load error end the JVM with a non-zero status. */
  public static void main(String[] args) {
    System.out.println("native version " + MqsealCipher.nativeVersion());
  }
}
