// Task ids. A task submitted without an idempotency key gets a UUID v7 (time-ordered,
// so ids sort by submission). With a key, the id is derived from the key (a UUID v8,
// "custom", from SHA-256): every submission with the same key lands on the same task
// id, hence the same partition and the same state, which is what makes submit
// idempotent in a partitioned processor.
import { createHash, randomBytes, randomUUID } from 'node:crypto';

export function uuidV7(now = Date.now()): string {
  const bytes = randomBytes(16);
  const ms = BigInt(now);
  for (let i = 0; i < 6; i++) bytes[i] = Number((ms >> BigInt(8 * (5 - i))) & 0xffn);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x70;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return format(bytes);
}

export function taskIdForKey(idempotencyKey: string): string {
  const bytes = createHash('sha256').update(`stackl.task-id:${idempotencyKey}`).digest().subarray(0, 16);
  bytes[6] = ((bytes[6] ?? 0) & 0x0f) | 0x80;
  bytes[8] = ((bytes[8] ?? 0) & 0x3f) | 0x80;
  return format(bytes);
}

export function eventId(): string {
  return randomUUID();
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export function isTaskId(value: string): boolean {
  return UUID.test(value);
}

function format(bytes: Uint8Array): string {
  const hex = Buffer.from(bytes).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
