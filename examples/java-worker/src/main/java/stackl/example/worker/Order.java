package stackl.example.worker;

import org.apache.avro.generic.GenericRecord;

/**
 * What a worker needs of a TaskDispatch: a run order (RunAttempt) or a rollback order
 * (RunRollback). `attempt` is the fencing token to echo: the attempt number of a run order,
 * the rollback attempt number of a rollback order.
 */
record Order(
    String eventId,
    String taskId,
    String correlationId,
    boolean rollback,
    String kind,
    String action,
    String payload,
    int attempt,
    long deadlineAt) {

  /** From a decoded envelope; a body that is no work order (DeliverOutcome) is undecodable here. */
  static Order from(GenericRecord envelope) throws Envelopes.UndecodableOrder {
    GenericRecord body = (GenericRecord) envelope.get("body");
    String type = body.getSchema().getName();
    boolean rollback = switch (type) {
      case "RunAttempt" -> false;
      case "RunRollback" -> true;
      default -> throw new Envelopes.UndecodableOrder("DECODE_INVALID", "a " + type + " is not a work order", null);
    };
    GenericRecord task = (GenericRecord) body.get("task");
    return new Order(
        text(envelope.get("eventId")),
        text(envelope.get("taskId")),
        text(envelope.get("correlationId")),
        rollback,
        text(task.get("kind")),
        text(task.get("action")),
        text(task.get("payload")),
        (Integer) body.get(rollback ? "rollbackAttempt" : "attempt"),
        (Long) body.get("deadlineAt"));
  }

  /** Avro's generic reader gives strings as Utf8; null stays null (the optional ids). */
  private static String text(Object value) {
    return value == null ? null : value.toString();
  }
}
