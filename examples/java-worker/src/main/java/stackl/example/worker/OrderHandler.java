package stackl.example.worker;

import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.Headers;
import org.apache.kafka.common.header.internals.RecordHeaders;

/**
 * What docs/worker-protocol.md asks of a worker for one order record, from decoding it to its
 * last result. It returns once the order settled (reported, skipped or dead-lettered); only
 * then may its offset be committed. A result Kafka would not take (the producer retries for
 * delivery.timeout.ms) is thrown, so the offset stays uncommitted and the order goes to the
 * next member of the pool.
 */
final class OrderHandler {
  private final Envelopes envelopes;
  private final Producer<byte[], byte[]> producer;
  private final Map<String, Kind> kinds;
  private final String resultsTopic;
  private final String dlqTopic;
  private final String workerId;

  OrderHandler(Envelopes envelopes, Producer<byte[], byte[]> producer, Map<String, Kind> kinds, String prefix, String workerId) {
    this.envelopes = envelopes;
    this.producer = producer;
    this.kinds = kinds;
    this.resultsTopic = prefix + "task.results";
    this.dlqTopic = prefix + "task.dlq";
    this.workerId = workerId;
  }

  /** `group` names this worker's consumer group in a dead letter. */
  void handle(ConsumerRecord<byte[], byte[]> record, String group) throws Exception {
    Order order;
    try {
      order = envelopes.decodeOrder(record.value());
    } catch (Envelopes.UndecodableOrder e) {
      Log.warn("order at " + record.topic() + "/" + record.partition() + "@" + record.offset() + " does not decode (" + e.code + "): dead-lettering it");
      deadLetter(record, group, e);
      return;
    }
    Kind kind = kinds.get(order.kind());
    // Every pool sees every order: another pool's kind is simply passed over, quietly.
    if (kind == null) return;
    // Too late: the broker has already counted it as timed out, and retries or rolls back.
    if (System.currentTimeMillis() >= order.deadlineAt()) {
      Log.info("task " + order.taskId() + ": skipping " + (order.rollback() ? "rollback " : "attempt ") + order.attempt() + ", its deadline has passed");
      return;
    }
    if (order.rollback()) rollback(kind, order);
    else run(kind, order);
  }

  private void run(Kind kind, Order order) throws Exception {
    // Before any work: were the task already failed, this tells the broker to roll back again.
    report(order, "AttemptStarted", fields("attempt", order.attempt()));
    Kind.Outcome outcome;
    try {
      outcome = kind.run(order.action(), order.payload());
    } catch (Exception e) {
      outcome = new Kind.Outcome.Failed(order.kind() + "/" + order.action() + " threw " + e, false);
    }
    // The work is instant, so there are no heartbeats: a kind that works for long would send
    // AttemptHeartbeat every third of task.heartbeatTimeoutMs, and stop at deadlineAt.
    if (outcome instanceof Kind.Outcome.Succeeded succeeded) {
      report(order, "AttemptSucceeded", fields("attempt", order.attempt(), "output", succeeded.output()));
    } else if (outcome instanceof Kind.Outcome.Failed failed) {
      report(order, "AttemptFailed", fields("attempt", order.attempt(), "message", failed.message(), "retriable", failed.retriable()));
    }
  }

  private void rollback(Kind kind, Order order) throws Exception {
    try {
      kind.rollback(order.action(), order.payload());
    } catch (Exception e) {
      report(order, "RollbackFailed", fields("rollbackAttempt", order.attempt(), "message", String.valueOf(e.getMessage())));
      return;
    }
    report(order, "RollbackSucceeded", fields("rollbackAttempt", order.attempt()));
  }

  /**
   * Keyed by task id and left to the default partitioner: murmur2 of the key, the partition
   * the broker expects (a result on another partition is dead-lettered, not applied).
   */
  private void report(Order order, String type, Map<String, Object> body) throws Exception {
    body.put("workerId", workerId);
    byte[] value = envelopes.encodeResult(order, type, body);
    send(new ProducerRecord<>(resultsTopic, order.taskId().getBytes(StandardCharsets.UTF_8), value));
  }

  /** The original key, bytes and headers, plus where the record was and why it failed (topics/dead-letter.ts). */
  private void deadLetter(ConsumerRecord<byte[], byte[]> record, String group, Envelopes.UndecodableOrder error) throws Exception {
    Headers headers = new RecordHeaders();
    for (Header header : record.headers()) headers.add(header);
    header(headers, "stackl.dlq.topic", record.topic());
    header(headers, "stackl.dlq.partition", String.valueOf(record.partition()));
    header(headers, "stackl.dlq.offset", String.valueOf(record.offset()));
    header(headers, "stackl.dlq.error.code", error.code);
    String message = String.valueOf(error.getMessage());
    header(headers, "stackl.dlq.error.message", message.substring(0, Math.min(2000, message.length())));
    header(headers, "stackl.dlq.app", group);
    send(new ProducerRecord<>(dlqTopic, null, record.key(), record.value(), headers));
  }

  private void send(ProducerRecord<byte[], byte[]> record) throws Exception {
    try {
      producer.send(record).get();
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception cause ? cause : e;
    }
  }

  private static void header(Headers headers, String name, String value) {
    headers.add(name, value.getBytes(StandardCharsets.UTF_8));
  }

  /** A result body's fields, in a map the caller may add the worker id to. */
  private static Map<String, Object> fields(Object... namesAndValues) {
    Map<String, Object> map = new LinkedHashMap<>();
    for (int i = 0; i < namesAndValues.length; i += 2) map.put((String) namesAndValues[i], namesAndValues[i + 1]);
    return map;
  }
}
