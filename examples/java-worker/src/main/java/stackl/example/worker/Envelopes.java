package stackl.example.worker;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.Stream;
import org.apache.avro.AvroRuntimeException;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BadHeaderException;
import org.apache.avro.message.BinaryMessageDecoder;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.message.MissingSchemaException;

/**
 * The two envelopes a worker touches, read from the repository's schemas/avro at start (never
 * copied, so they cannot drift): TaskDispatch to read orders, TaskResult to write results.
 * Both travel in Avro single-object encoding (C3 01, the CRC-64-AVRO fingerprint of the
 * schema's parsing canonical form, the Avro binary), which is exactly what Avro's
 * BinaryMessageEncoder and BinaryMessageDecoder read and write.
 */
final class Envelopes {
  private final Schema resultSchema;
  private final BinaryMessageDecoder<GenericRecord> orderDecoder;
  private final BinaryMessageEncoder<GenericRecord> resultEncoder;

  private Envelopes(Schema dispatchSchema, Schema resultSchema) {
    this.resultSchema = resultSchema;
    this.orderDecoder = new BinaryMessageDecoder<>(GenericData.get(), dispatchSchema);
    this.resultEncoder = new BinaryMessageEncoder<>(GenericData.get(), resultSchema);
  }

  /**
   * Parses common/*.avsc, then the envelopes, with one set of named types, as the TypeScript
   * side does with avsc's registry. Avro's parser wants a type defined before it is named, and
   * the shared files refer to one another (TaskSpec names Origin and Backoff), so each file is
   * tried on a fresh parser seeded with the types known so far until every one has parsed:
   * no list of files to keep in step with the directory.
   */
  static Envelopes load(Path avroDir) throws IOException {
    Map<String, Schema> known = new HashMap<>();
    List<Path> pending;
    try (Stream<Path> files = Files.list(avroDir.resolve("common"))) {
      pending = new ArrayList<>(files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList());
    }
    while (!pending.isEmpty()) {
      List<Path> stillPending = new ArrayList<>();
      RuntimeException lastError = null;
      for (Path file : pending) {
        Schema.Parser parser = new Schema.Parser().addTypes(known.values());
        try {
          parser.parse(file.toFile());
          known.putAll(parser.getTypes());
        } catch (AvroRuntimeException e) {
          stillPending.add(file);
          lastError = e;
        }
      }
      if (stillPending.size() == pending.size()) {
        throw new IOException("cannot parse " + stillPending + " in " + avroDir + ": " + lastError.getMessage(), lastError);
      }
      pending = stillPending;
    }
    Schema dispatch = new Schema.Parser().addTypes(known.values()).parse(avroDir.resolve("task-dispatch.avsc").toFile());
    Schema result = new Schema.Parser().addTypes(known.values()).parse(avroDir.resolve("task-result.avsc").toFile());
    return new Envelopes(dispatch, result);
  }

  /** Decodes an order record; an UndecodableOrder says why not, with the code the dead letter carries. */
  Order decodeOrder(byte[] value) throws UndecodableOrder {
    if (value == null || value.length == 0) throw new UndecodableOrder("DECODE_EMPTY", "record value is empty", null);
    GenericRecord record;
    try {
      record = orderDecoder.decode(value);
    } catch (BadHeaderException e) {
      // Also a Confluent-framed record (00 + schema id): this example reads no schema registry.
      throw new UndecodableOrder("DECODE_UNKNOWN_FORMAT", "not Avro single-object encoding: " + e.getMessage(), e);
    } catch (MissingSchemaException e) {
      throw new UndecodableOrder("DECODE_UNKNOWN_SCHEMA", "written with a schema other than this TaskDispatch: " + e.getMessage(), e);
    } catch (IOException | RuntimeException e) {
      throw new UndecodableOrder("DECODE_INVALID", "does not decode as TaskDispatch: " + e, e);
    }
    return Order.from(record);
  }

  /**
   * A TaskResult about the task of `order`: a new event id, sequence 0 (workers do not number
   * their records), caused by the order and carrying its correlation id on.
   */
  byte[] encodeResult(Order order, String type, Map<String, Object> fields) {
    GenericRecord envelope = new GenericData.Record(resultSchema);
    Schema bodySchema = resultSchema.getField("body").schema().getTypes().stream()
        .filter(s -> s.getName().equals(type))
        .findFirst()
        .orElseThrow(() -> new IllegalArgumentException("TaskResult has no body " + type));
    GenericRecord body = new GenericData.Record(bodySchema);
    fields.forEach(body::put);
    envelope.put("eventId", UUID.randomUUID().toString());
    envelope.put("taskId", order.taskId());
    envelope.put("sequence", 0L);
    envelope.put("type", new GenericData.EnumSymbol(resultSchema.getField("type").schema(), type));
    envelope.put("time", System.currentTimeMillis());
    envelope.put("causationId", order.eventId());
    envelope.put("correlationId", order.correlationId());
    envelope.put("body", body);
    try {
      ByteBuffer buffer = resultEncoder.encode(envelope);
      byte[] bytes = new byte[buffer.remaining()];
      buffer.get(bytes);
      return bytes;
    } catch (IOException e) {
      // Writing to memory: only a record that does not fit the schema gets here, our own bug.
      throw new IllegalStateException("cannot encode " + type, e);
    }
  }

  /** A record on an order topic that is not an order this worker can read. */
  static final class UndecodableOrder extends Exception {
    final String code;

    UndecodableOrder(String code, String message, Throwable cause) {
      super(message, cause);
      this.code = code;
    }
  }
}
