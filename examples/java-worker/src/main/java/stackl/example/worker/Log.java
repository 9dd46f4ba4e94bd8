package stackl.example.worker;

import java.time.Instant;

/** Log lines go to stderr: stdout carries only the `registered` and `ready` lines scripts wait for. */
final class Log {
  private Log() {}

  static void info(String message) {
    line("info", message);
  }

  static void warn(String message) {
    line("warn", message);
  }

  static void error(String message, Throwable error) {
    line("error", message + ": " + error);
  }

  private static void line(String level, String message) {
    System.err.println(Instant.now() + " " + level + " java-worker: " + message);
  }
}
