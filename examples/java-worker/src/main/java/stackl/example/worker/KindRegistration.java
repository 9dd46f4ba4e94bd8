package stackl.example.worker;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.Producer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicExistsException;

/**
 * Tells the brokers about java-checksum: one record on the compacted topic task.kinds, keyed
 * by the kind's name, so the latest registration of each kind is what the topic keeps. A
 * broker accepts submissions of a kind only once it has read that record, and checks their
 * payloads against the JSON Schema in it.
 */
final class KindRegistration {
  private static final ObjectMapper JSON = new ObjectMapper();

  private KindRegistration() {}

  /** The registry record's value: UTF-8 JSON, in the field order docs/worker-protocol.md gives. */
  static String record(String pool, String workerId, long now) throws Exception {
    ObjectNode kind = JSON.createObjectNode();
    kind.put("format", 1);
    kind.put("name", ChecksumKind.NAME);
    kind.put("version", 1);
    kind.put("pool", pool);
    kind.putArray("actions").add("run");
    // JSON Schema 2020-12 of the run payload. It may only ever gain optional fields: a
    // changed kind that would refuse payloads the old one took is refused by the brokers.
    kind.putObject("payloadSchemas").set("run", JSON.readTree("""
        {
          "type": "object",
          "properties": {
            "text": { "type": "string", "maxLength": 100000 },
            "fail": { "type": "boolean" }
          },
          "required": ["text"],
          "additionalProperties": false
        }
        """));
    // Nothing to undo, but the broker runs a rollback after a failure all the same: we answer it.
    kind.put("rollback", "compensate");
    kind.putObject("defaults").put("timeoutMs", 30_000);
    kind.put("description", "SHA-256 of a text, served by a Java worker");
    kind.put("registeredAt", now);
    kind.put("registeredBy", workerId);
    return JSON.writeValueAsString(kind);
  }

  /**
   * Creates task.kinds if it is missing (the TypeScript side creates it the same way: one
   * partition, compacted), then writes the record and waits for all in-sync replicas to have it.
   */
  static void register(Admin admin, Producer<byte[], byte[]> producer, String topic, String pool, String workerId) throws Exception {
    createIfMissing(admin, topic);
    String value = record(pool, workerId, System.currentTimeMillis());
    producer.send(new ProducerRecord<>(topic, ChecksumKind.NAME.getBytes(StandardCharsets.UTF_8), value.getBytes(StandardCharsets.UTF_8))).get();
  }

  private static void createIfMissing(Admin admin, String topic) throws Exception {
    if (admin.listTopics().names().get().contains(topic)) return;
    // As the system creates its topics: STACKL_REPLICATION_FACTOR replicas, or min(3, brokers
    // alive), and one replica may be lost without refusing acks=all writes.
    String configured = System.getenv("STACKL_REPLICATION_FACTOR");
    int brokers = admin.describeCluster().nodes().get().size();
    short replicas = (short) (configured != null ? Integer.parseInt(configured) : Math.min(3, brokers));
    NewTopic kinds = new NewTopic(topic, Optional.of(1), Optional.of(replicas)).configs(Map.of(
        "cleanup.policy", "compact",
        "min.insync.replicas", String.valueOf(Math.max(1, replicas - 1))));
    try {
      admin.createTopics(List.of(kinds)).all().get();
    } catch (ExecutionException e) {
      // Another worker, or a broker, created it meanwhile: just as good.
      if (!(e.getCause() instanceof TopicExistsException)) throw e;
    }
  }
}
