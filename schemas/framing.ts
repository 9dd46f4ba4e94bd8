// The two framings a STACKL record can have on Kafka:
// - Avro single-object encoding: 0xC3 0x01, the 8-byte little-endian CRC-64-AVRO fingerprint of
//   the writer schema, then the Avro binary. Used when no schema registry is configured.
// - Confluent wire format: 0x00, the 4-byte big-endian schema registry id, then the Avro binary.
import { DecodeError } from './errors.js';
import type { DecodeErrorDetails } from './errors.js';

export const SINGLE_OBJECT_MARKER = Buffer.from([0xc3, 0x01]);
export const CONFLUENT_MAGIC = 0x00;
const SINGLE_OBJECT_HEADER = 10;
const CONFLUENT_HEADER = 5;

export type Framing =
  | { format: 'single-object'; fingerprint: string; payloadOffset: number; details: DecodeErrorDetails }
  | { format: 'confluent'; schemaId: number; payloadOffset: number; details: DecodeErrorDetails };

export function singleObjectHeader(fingerprint: Buffer): Buffer {
  return Buffer.concat([SINGLE_OBJECT_MARKER, fingerprint]);
}

export function confluentHeader(schemaId: number): Buffer {
  const header = Buffer.alloc(CONFLUENT_HEADER);
  header.writeUInt8(CONFLUENT_MAGIC, 0);
  header.writeUInt32BE(schemaId, 1);
  return header;
}

/** Reads the framing header; throws a DecodeError when there is none we know. */
export function readFraming(buffer: Buffer): Framing {
  const byteLength = buffer.length;
  if (byteLength === 0) throw new DecodeError('DECODE_EMPTY', 'record value is empty', { format: 'unknown', byteLength });
  if (buffer[0] === CONFLUENT_MAGIC) {
    const details: DecodeErrorDetails = { format: 'confluent', byteLength };
    if (byteLength < CONFLUENT_HEADER) {
      throw new DecodeError('DECODE_TRUNCATED', `Confluent header needs ${CONFLUENT_HEADER} bytes, got ${byteLength}`, details);
    }
    const schemaId = buffer.readUInt32BE(1);
    return { format: 'confluent', schemaId, payloadOffset: CONFLUENT_HEADER, details: { ...details, schemaId } };
  }
  if (buffer[0] === SINGLE_OBJECT_MARKER[0] && (byteLength === 1 || buffer[1] === SINGLE_OBJECT_MARKER[1])) {
    const details: DecodeErrorDetails = { format: 'single-object', byteLength };
    if (byteLength < SINGLE_OBJECT_HEADER) {
      throw new DecodeError('DECODE_TRUNCATED', `single-object header needs ${SINGLE_OBJECT_HEADER} bytes, got ${byteLength}`, details);
    }
    const fingerprint = buffer.subarray(2, SINGLE_OBJECT_HEADER).toString('hex');
    return { format: 'single-object', fingerprint, payloadOffset: SINGLE_OBJECT_HEADER, details: { ...details, fingerprint } };
  }
  const magic = buffer.subarray(0, 2).toString('hex');
  throw new DecodeError('DECODE_UNKNOWN_FORMAT', `unknown framing: first bytes 0x${magic} are neither 0xc301 (Avro single-object) nor 0x00 (Confluent)`, {
    format: 'unknown',
    byteLength,
    magic,
  });
}
