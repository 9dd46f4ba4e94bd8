// Turns a kafkajs batch into events at their log positions. A record that does not
// decode cannot be projected: it is set aside for the dead-letter topic so the partition
// keeps moving. Errors that retrying can fix (a schema registry that does not answer)
// are thrown instead.
import type { KafkaMessage } from 'kafkajs';
import { isStacklError } from '../../core/errors.js';
import { CONFLUENT_MAGIC, decode, decodeSingleObject, taskEventSchema, type TaskEventMessage } from '../../schemas/index.js';
import type { PositionedEvent } from './fold-batch.js';

export interface Unprojectable {
  message: KafkaMessage;
  error: unknown;
}

export interface DecodedBatch {
  events: PositionedEvent[];
  unprojectable: Unprojectable[];
}

/** Decodes the messages of one partition before `stopAt` (exclusive), in log order. */
export async function decodeBatch(partition: number, messages: readonly KafkaMessage[], stopAt = Number.POSITIVE_INFINITY): Promise<DecodedBatch> {
  const events: PositionedEvent[] = [];
  const unprojectable: Unprojectable[] = [];
  for (const message of messages) {
    const offset = Number(message.offset);
    if (offset >= stopAt) break;
    try {
      const decoded = decodeEvent(message.value);
      // Awaited only when the async path ran: a microtask per event is measurable here.
      const event = decoded instanceof Promise ? await decoded : decoded;
      // The schema guarantees UUIDs, in either case; PostgreSQL prints them in lower case,
      // and rows read back are matched to events by that text.
      event.taskId = event.taskId.toLowerCase();
      event.eventId = event.eventId.toLowerCase();
      events.push({ at: { partition, offset }, event });
    } catch (error) {
      if (isStacklError(error) && error.retriable) throw error;
      unprojectable.push({ message, error });
    }
  }
  return { events, unprojectable };
}

/**
 * The synchronous decoder first: it reads the single-object encoding STACKL writes without a
 * schema registry, at a third of the cost of the async path. Confluent framing (a registry's
 * records) and bytes that do not decode take the full decoder, which also names the error.
 */
function decodeEvent(bytes: Buffer | null): TaskEventMessage | Promise<TaskEventMessage> {
  if (bytes !== null && bytes[0] === CONFLUENT_MAGIC) return decode(bytes, taskEventSchema);
  try {
    return decodeSingleObject(bytes, taskEventSchema);
  } catch {
    return decode(bytes, taskEventSchema);
  }
}
