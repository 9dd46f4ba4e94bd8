package stackl.example.worker;

/** A task kind this worker serves: the work of each action, and its rollback. */
interface Kind {
  String name();

  /** Runs one attempt. Anything thrown counts as a non-retriable failure. */
  Outcome run(String action, String payload) throws Exception;

  /**
   * Undoes whatever attempts may have done. Must be idempotent: it can run more than once, and
   * after an attempt that did nothing. Returning means undone; anything thrown is reported as
   * RollbackFailed with its message (the broker retries it).
   */
  void rollback(String action, String payload) throws Exception;

  /** How an attempt ended. */
  sealed interface Outcome {
    /** `output` is JSON text. */
    record Succeeded(String output) implements Outcome {}

    /** `retriable` false: retrying cannot help, so the broker fails the task at once. */
    record Failed(String message, boolean retriable) implements Outcome {}
  }
}
