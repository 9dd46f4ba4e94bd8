// Task ids in URLs: UUIDs, accepted in either case and handled in lower case (how
// PostgreSQL prints them and how the broker keys them).
import { StacklError } from '../core/errors.js';
import { isTaskId } from '../processors/broker/ids.js';

export function taskIdOf(raw: string): string {
  const id = raw.toLowerCase();
  if (!isTaskId(id)) throw new StacklError('INVALID_TASK_ID', `"${raw.slice(0, 100)}" is not a task id (a UUID)`, { httpStatus: 400 });
  return id;
}

export function taskNotFound(id: string): StacklError {
  return new StacklError('TASK_NOT_FOUND', `no task ${id}`, { httpStatus: 404, details: { id } });
}
