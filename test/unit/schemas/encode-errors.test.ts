// A message that does not fit its schema is a bug in the writer; the error must say which
// field is wrong, in the message's own terms (no avsc union branch names in the path).
import { describe, expect, it } from 'vitest';
import { EncodeError, encode, encodeConfluent, topicSchemas } from '../../../schemas/index.js';
import { envelope, sampleMessages, taskSpec } from './sample-messages.js';

const events = topicSchemas.TaskEvent;
const submitted = sampleMessages('TaskEvent')[0]!;

function encodeError(fn: () => unknown): EncodeError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(EncodeError);
    expect((error as EncodeError).code).toBe('ENCODE_INVALID');
    return error as EncodeError;
  }
  throw new Error('expected an EncodeError');
}

// Invalid on purpose: the casts get past the type checker the way untyped input would.
const loose = (message: object) => message as never;

describe('encode of invalid messages', () => {
  it('names the path of a field of the wrong type', () => {
    const message = { ...submitted, body: { task: { ...taskSpec, timeoutMs: '5m' }, deadlineAt: 1 } };
    const error = encodeError(() => encode(events, loose(message)));
    expect(error.paths).toEqual(['body.task.timeoutMs']);
    expect(error.message).toContain('body.task.timeoutMs');
  });

  it('names every offending field, including undeclared ones', () => {
    const message = { ...envelope, sequence: 1.5, type: 'RollbackSucceeded', body: { rollbackAttempt: 1, attmept: 2 } };
    expect(encodeError(() => encode(events, loose(message))).paths).toEqual(['sequence', 'body.attmept']);
  });

  it('refuses a type that is not a body of the topic', () => {
    const error = encodeError(() => encode(events, loose({ ...envelope, type: 'SubmitTask', body: {} })));
    expect(error.paths).toEqual(['type']);
  });

  it('refuses ids that are not UUIDs', () => {
    expect(encodeError(() => encode(events, loose({ ...submitted, taskId: 'task-1' }))).paths).toEqual(['taskId']);
  });

  it('refuses missing fields and non-objects', () => {
    expect(encodeError(() => encode(events, loose({ ...submitted, body: { deadlineAt: 1 } }))).paths).toEqual(['body.task']);
    expect(encodeError(() => encode(events, loose([]))).paths).toEqual(['']);
  });

  it('refuses a Confluent schema id that does not fit 32 bits', () => {
    expect(encodeError(() => encodeConfluent(events, submitted, 2 ** 31)).paths).toEqual(['schemaId']);
  });
});
