import { describe, expect, it } from 'vitest';
import { initialState, MAX_DURATION_MS, taskView, type TaskState } from '../../../processors/lifecycle/index.js';
import { accepted, event, spec, submit, T0, TASK_ID } from './fixtures.js';
import { given } from './given.js';

const rejectedWith = (state: TaskState): string | undefined => taskView(state)?.rejection?.code;

describe('SubmitTask (rule 1)', () => {
  it('accepts a valid task with every default filled in and dispatches attempt 1', () => {
    const outcome = given().when(submit(), T0).then([
      event('TaskSubmitted', { task: spec(), deadlineAt: T0 + 300_000 }),
      event('AttemptDispatched', { attempt: 1, deadlineAt: T0 + 300_000 }),
    ]);
    expect(taskView(outcome.state)).toMatchObject({ status: 'Available', rollback: null, attempt: 1 });
  });

  it('keeps every option the producer set, and bounds the attempt by its own timeout', () => {
    const options = {
      idempotencyKey: 'order-42', timeoutMs: 60_000, attemptTimeoutMs: 10_000, heartbeatTimeoutMs: 2_000, maxAttempts: 3,
      retryBackoff: { initialMs: 500, multiplier: 1.5, maxMs: 4_000 }, rollbackMaxAttempts: 2,
      rollbackBackoff: { initialMs: 100, multiplier: 1, maxMs: 100 },
    };
    given().when(submit(options), T0).then([
      event('TaskSubmitted', { task: spec(options), deadlineAt: T0 + 60_000 }),
      event('AttemptDispatched', { attempt: 1, deadlineAt: T0 + 10_000 }),
    ]);
  });

  it('never lets an attempt outlive its task', () => {
    given().when(submit({ timeoutMs: 5_000, attemptTimeoutMs: 60_000 }), T0).then([
      event('TaskSubmitted', { task: spec({ timeoutMs: 5_000, attemptTimeoutMs: 60_000 }), deadlineAt: T0 + 5_000 }),
      event('AttemptDispatched', { attempt: 1, deadlineAt: T0 + 5_000 }),
    ]);
  });

  it('rejects an unknown kind and lists the known ones', () => {
    const { events, state } = given().when(submit({ kind: 'gizmo' }));
    expect(events).toEqual([event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'unknown kind "gizmo"; known kinds: document, probe, query, snapshot, stack' })]);
    expect(state.phase).toBe('Rejected');
  });

  it('rejects an unknown action and lists the kind\'s actions', () => {
    given().when(submit({ action: 'explode' })).then([
      event('TaskRejected', { code: 'UNKNOWN_ACTION', message: 'kind "probe" has no action "explode"; its actions: run' }),
    ]);
  });

  it('rejects a payload that is not JSON', () => {
    const { events } = given().when(submit({ payload: '{outcome' }));
    expect(events).toMatchObject([{ type: 'TaskRejected', body: { code: 'INVALID_PAYLOAD', message: expect.stringMatching(/^payload of probe\/run is not JSON: /) } }]);
  });

  it('rejects a payload that fails the kind\'s schema, naming every offending path', () => {
    const { events } = given().when(submit({ payload: '{"outcome":"explode","durationMs":-1,"extra":1}' }));
    const message = events[0]?.type === 'TaskRejected' ? events[0].body.message : '';
    expect(events[0]?.type === 'TaskRejected' && events[0].body.code).toBe('INVALID_PAYLOAD');
    expect(message).toMatch(/outcome: /);
    expect(message).toMatch(/durationMs: /);
    expect(message).toMatch(/\(root\): Unrecognized key: "extra"/);
  });

  it.each([
    [{ timeoutMs: 0 }, /timeoutMs must be an integer from 1/],
    [{ timeoutMs: -5 }, /timeoutMs/],
    [{ timeoutMs: 1.5 }, /timeoutMs/],
    [{ timeoutMs: MAX_DURATION_MS + 1 }, /timeoutMs/],
    [{ attemptTimeoutMs: 0 }, /attemptTimeoutMs/],
    [{ heartbeatTimeoutMs: -1 }, /heartbeatTimeoutMs/],
    [{ maxAttempts: 0 }, /maxAttempts must be an integer of at least 1 \(got 0\)/],
    [{ rollbackMaxAttempts: 0 }, /rollbackMaxAttempts/],
    [{ retryBackoff: { initialMs: 1_000, multiplier: 0.5, maxMs: 2_000 } }, /retryBackoff.multiplier must be a number of at least 1/],
    [{ retryBackoff: { initialMs: 1_000, multiplier: 2, maxMs: 10 } }, /retryBackoff.maxMs \(10\) must not be below retryBackoff.initialMs \(1000\)/],
    [{ rollbackBackoff: { initialMs: -1, multiplier: 2, maxMs: 10 } }, /rollbackBackoff.initialMs/],
    [{ rollbackBackoff: { initialMs: 0, multiplier: Number.NaN, maxMs: 10 } }, /rollbackBackoff.multiplier/],
    [{ idempotencyKey: ' ' }, /idempotencyKey must not be empty/],
  ])('rejects unusable options %o', (options, message) => {
    const { events, state } = given().when(submit(options));
    expect(events).toMatchObject([{ type: 'TaskRejected', body: { code: 'INVALID_OPTIONS', message: expect.stringMatching(message) } }]);
    expect(rejectedWith(state)).toBe('INVALID_OPTIONS');
  });

  it('names every unusable option at once', () => {
    const { events } = given().when(submit({ timeoutMs: 0, maxAttempts: 0 }));
    expect(events).toMatchObject([{ body: { message: expect.stringMatching(/timeoutMs.*; maxAttempts/) } }]);
  });

  it.each([
    [{ type: 'topic' as const, target: null }, /origin type topic needs a target/],
    [{ type: 'webhook' as const, target: '' }, /needs a target/],
    [{ type: 'webhook' as const, target: 'ftp://x.test/hook' }, /not an http or https URL/],
    [{ type: 'webhook' as const, target: 'not a url' }, /not an http or https URL/],
    // SSRF: by default only loopback receivers (STACKL_WEBHOOK_ALLOWED_HOSTS) may be called.
    [{ type: 'webhook' as const, target: 'https://x.test/h' }, /webhook host "x.test" is not allowed/],
    [{ type: 'webhook' as const, target: 'http://169.254.169.254/latest/meta-data' }, /webhook host "169.254.169.254" is not allowed/],
    [{ type: 'webhook' as const, target: 'http://user:secret@127.0.0.1/h' }, /must not carry a user name or password/],
  ])('rejects an origin that cannot be replied to %o', (origin, message) => {
    const { events } = given().when(submit({ origin }));
    expect(events).toMatchObject([{ type: 'TaskRejected', body: { code: 'INVALID_ORIGIN', message: expect.stringMatching(message) } }]);
  });

  it('accepts origins none (no target needed) and a webhook on an allowed host', () => {
    expect(given().when(submit({ origin: { type: 'none', target: null } })).events[0]?.type).toBe('TaskSubmitted');
    expect(given().when(submit({ origin: { type: 'webhook', target: 'https://localhost/h' } })).events[0]?.type).toBe('TaskSubmitted');
    expect(given().when(submit({ origin: { type: 'webhook', target: 'http://[::1]:9000/h' } })).events[0]?.type).toBe('TaskSubmitted');
  });
});

describe('SubmitTask idempotency', () => {
  it('a second submission with the same (default) key emits nothing', () => {
    given(...accepted()).when(submit(), T0 + 1_000).then([]);
    given(...accepted()).when(submit({ idempotencyKey: TASK_ID }), T0 + 1_000).then([]);
  });

  it('a second submission with the same explicit key emits nothing, even with other fields', () => {
    given(...accepted({ idempotencyKey: 'order-42' })).when(submit({ idempotencyKey: 'order-42', payload: '{"outcome":"fail"}' })).then([]);
  });

  it('the same task id under another key is a conflict', () => {
    given(...accepted({ idempotencyKey: 'order-42' })).when(submit({ idempotencyKey: 'order-43' })).then([
      event('CommandRejected', { command: 'SubmitTask', code: 'TASK_ID_CONFLICT', message: `task ${TASK_ID} already exists with another idempotency key` }),
    ]);
  });

  it('a resubmission of a rejected task gets the first answer: nothing new', () => {
    const rejected = event('TaskRejected', { code: 'UNKNOWN_KIND', message: 'x' });
    given(rejected).when(submit()).then([]);
  });

  it('a conflict leaves the task as it was, apart from its sequence', () => {
    const before = given(...accepted({ idempotencyKey: 'a' }));
    const { state } = before.when(submit({ idempotencyKey: 'b' }));
    expect(state).toEqual({ ...before.state, sequence: 3 });
    expect(initialState).toEqual({ phase: 'Absent' });
  });
});
