// One sample body of every type of every topic. The maps are typed with the generated
// `…Bodies` interfaces, so adding a body to an .avsc file fails type-checking here until it
// has a sample, and every round-trip test covers it.
import type {
  EnvelopeName,
  Envelope,
  TaskDispatchBodies,
  TaskEventBodies,
  TaskRequestBodies,
  TaskResultBodies,
  TaskSpec,
  TopicMessages,
} from '../../../schemas/index.js';

export const TASK_ID = '01970a3e-5c1b-7d2e-9f00-1234567890ab';

export const envelope: Envelope = {
  eventId: 'f47ac10b-58cc-4372-a567-0e02b2c3d479',
  taskId: TASK_ID,
  sequence: 7,
  time: 1_750_000_000_123,
  causationId: '6e1f0d7c-2f4b-4b7a-9d55-3a1c2b0e9f10',
  correlationId: null,
};

const backoff = { initialMs: 1_000, multiplier: 2, maxMs: 60_000 };

export const taskSpec: TaskSpec = {
  id: TASK_ID,
  kind: 'stack',
  action: 'create',
  payload: '{"name":"web","size":3}',
  origin: { type: 'topic', target: 'stackl.replies' },
  idempotencyKey: 'order-42',
  timeoutMs: 300_000,
  attemptTimeoutMs: 60_000,
  heartbeatTimeoutMs: null,
  maxAttempts: 3,
  retryBackoff: backoff,
  rollbackMaxAttempts: 5,
  rollbackBackoff: { initialMs: 500, multiplier: 1.5, maxMs: 30_000 },
  submittedAt: 1_750_000_000_000,
};

const requests: TaskRequestBodies = {
  SubmitTask: {
    kind: 'document',
    action: 'render',
    payload: '{"title":"Ünïcode ✓"}',
    origin: { type: 'webhook', target: 'https://example.test/hook' },
    idempotencyKey: null,
    timeoutMs: 120_000,
    attemptTimeoutMs: null,
    heartbeatTimeoutMs: 10_000,
    maxAttempts: null,
    retryBackoff: backoff,
    rollbackMaxAttempts: 2,
    rollbackBackoff: null,
  },
  CancelTask: { reason: null, requestedBy: 'ops@example.test' },
  RetryRollback: { requestedBy: null },
  ReportUndelivered: { target: 'https://example.test/hook', code: 'WEBHOOK_UNDELIVERED', message: 'POST to https://example.test/hook failed 6 times; the last: answered 503' },
};

const results: TaskResultBodies = {
  AttemptStarted: { attempt: 1, workerId: 'worker-a' },
  AttemptHeartbeat: { attempt: 1, workerId: 'worker-a' },
  AttemptProgress: { attempt: 2, workerId: 'worker-b', percent: 40, message: 'copying' },
  AttemptSucceeded: { attempt: 2, workerId: 'worker-b', output: '{"ok":true}' },
  AttemptFailed: { attempt: 3, workerId: 'worker-c', message: 'disk full', retriable: false },
  RollbackSucceeded: { rollbackAttempt: 1, workerId: 'worker-a' },
  RollbackFailed: { rollbackAttempt: 2, workerId: 'worker-a', message: 'agent unreachable' },
};

const dispatches: TaskDispatchBodies = {
  RunAttempt: { task: taskSpec, attempt: 1, deadlineAt: 1_750_000_060_000 },
  RunRollback: { task: taskSpec, rollbackAttempt: 1, failedAttempt: 3, deadlineAt: 1_750_000_090_000 },
  DeliverOutcome: { target: 'http://127.0.0.1:9000/hooks/tasks', document: '{"taskId":"x","status":"Completed"}' },
};

const events: TaskEventBodies = {
  TaskSubmitted: { task: taskSpec, deadlineAt: 1_750_000_300_000 },
  TaskRejected: { code: 'UNKNOWN_KIND', message: 'no manager for kind "spaceship"' },
  AttemptDispatched: { attempt: 1, deadlineAt: 1_750_000_060_000 },
  AttemptStarted: { attempt: 1, workerId: 'worker-a', heartbeatDeadlineAt: 1_750_000_010_000 },
  AttemptProgressed: { attempt: 1, percent: 100, message: null },
  AttemptSucceeded: { attempt: 1, output: '{}' },
  AttemptFailed: { attempt: 2, reason: 'timeout', message: 'no heartbeat', retryAt: null },
  TaskCompleted: { output: '{"id":"stack-9"}' },
  TaskFailed: { reason: 'cancelled', message: 'cancelled by ops' },
  RollbackDispatched: { rollbackAttempt: 1, deadlineAt: 1_750_000_120_000 },
  RollbackSucceeded: { rollbackAttempt: 1 },
  RollbackFailed: { rollbackAttempt: 4, message: 'gave up', retryAt: null },
  RollbackRetryRequested: { requestedBy: 'ops@example.test' },
  CommandRejected: { command: 'CancelTask', code: 'TASK_TERMINAL', message: 'task already completed' },
  TaskExpunged: {},
  ReplyUndelivered: { target: 'stackl.reply.orders', code: 'MESSAGE_TOO_LARGE', message: 'the reply topic refused the record' },
};

const bodies = { TaskRequest: requests, TaskResult: results, TaskDispatch: dispatches, TaskEvent: events };

/** A message of every body type of a topic, each on the shared sample envelope. */
export function sampleMessages<N extends EnvelopeName>(name: N): TopicMessages[N][] {
  return Object.entries(bodies[name]).map(([type, body]) => ({ ...envelope, type, body }) as TopicMessages[N]);
}
