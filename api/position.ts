// A log position as clients see it: `<partition>:<offset>` of a command in
// task.requests. Offsets stay strings/bigints end to end: they are 64-bit.
import { StacklError } from '../core/errors.js';
import type { LogPosition } from '../processors/broker/task-broker.js';

export interface RequestPosition {
  partition: number;
  offset: bigint;
}

export const POSITION_PATTERN = /^(\d{1,5}):(\d{1,19})$/;

export function formatPosition(position: Pick<LogPosition, 'partition' | 'offset'>): string {
  return `${position.partition}:${position.offset}`;
}

export function parsePosition(text: string): RequestPosition {
  const match = POSITION_PATTERN.exec(text);
  if (match === null) {
    throw new StacklError('INVALID_POSITION', `"${text}" is not a position; expected <partition>:<offset> as returned by POST /tasks`, { httpStatus: 400 });
  }
  return { partition: Number(match[1]), offset: BigInt(match[2] ?? '0') };
}
