// The chaos run's mixed load: probe successes, handler failures, timeouts and cancels,
// document tasks (some conflicting, so they roll back) and stack tasks (some needing
// the target whose agent fails, so they are torn down). Half go through the REST API,
// half straight to the broker (to Kafka, or with the custom broker to its inbox, as
// `stackl submit` does), each with an idempotency key: when a submission meets a
// fault it is sent again with the same key until it is accepted, so the task id is
// known even when an answer was lost.
import { taskIdForKey } from '../../../processors/broker/ids.js';
import type { SubmitRequest, TaskCommands } from '../../../processors/broker/task-broker.js';
import type { Random } from './random.js';
import { HEARTBEAT_TIMEOUT_MS } from './world.js';

export type Scenario = 'probe-ok' | 'probe-fail' | 'probe-timeout' | 'probe-cancel' | 'document' | 'document-conflict' | 'stack' | 'stack-agent-failure' | 'seed';

export const SCENARIO_WEIGHTS: readonly (readonly [Scenario, number])[] = [
  ['probe-ok', 30],
  ['probe-fail', 8],
  ['probe-timeout', 4],
  ['probe-cancel', 5],
  ['document', 20],
  ['document-conflict', 5],
  ['stack', 22],
  ['stack-agent-failure', 6],
];

/** Scenarios whose tasks can never complete (their handler, agent or datastore refuses them). */
export const MUST_ROLL_BACK: readonly Scenario[] = ['probe-fail', 'probe-timeout', 'document-conflict', 'stack-agent-failure'];
/** Scenarios whose tasks should complete unless a fault got in the way. */
export const SHOULD_COMPLETE: readonly Scenario[] = ['seed', 'probe-ok', 'document', 'stack'];

/**
 * How a submission reached the broker: the REST API, or straight to it, as a producer
 * bypassing the API would (task.requests on Kafka, the custom broker's inbox table).
 */
export type Route = 'api' | 'kafka' | 'inbox';

/** The broker's own client for the direct route: the Kafka producer, or the custom broker's InboxClient. */
export interface DirectRoute {
  route: Exclude<Route, 'api'>;
  commands: TaskCommands;
}

/** The cancel the load sent for a probe-cancel task, and every answer it got. */
export interface CancelRecord {
  /** The load's clock before the first try. */
  requestedAt: number;
  tries: number;
  /** 'accepted' (a 2xx from the API, or the direct route's acknowledgement), 'not-cancellable' (the API's documented refusal). */
  answer?: 'accepted' | 'not-cancellable';
  /** Answers that say "try again later" (the API, Kafka or PostgreSQL away during a fault), retried. */
  transient: string[];
  /** Set when the cancel failed for good: an answer no client should get, or no answer at all. */
  error?: string;
}

export interface SubmittedTask {
  n: number;
  scenario: Scenario;
  taskId: string;
  request: SubmitRequest & { idempotencyKey: string; timeoutMs: number };
  route: Route;
  submittedAt: number;
  /** Tries it took to get the submission accepted (faults in the way). */
  tries: number;
  accepted: boolean;
  /** Answers to the submission that were neither an acceptance nor "try again later". */
  refusals: string[];
  /** The last "try again later" answer, when there was one. */
  lastTransient?: string;
  /**
   * Time spent waiting to send again after the API answered 503 OVERLOADED because of its
   * backlog (requests or orders queued beyond their limit): the API declined the task then
   * (it did not exist), so invariant 4 does not count it as lateness. Time lost to faults
   * (no answer, Kafka away, the API's own sends to Kafka failing) still counts.
   */
  overloadedMs: number;
  cancel?: CancelRecord;
}

/** One answer to a request: accepted, the documented "not cancellable", try again later, or refused. */
type Answer = { kind: 'accepted' | 'not-cancellable' | 'transient' | 'refused'; text: string; retryAfterMs?: number; declinedForBacklog?: boolean };

/** The API's shed reasons that are admission control by queued work, not a fault in the way (api/admission.ts). */
const BACKLOG_SHED_REASONS = new Set(['requests', 'orders']);

/**
 * How long a client waits before it sends a request again after its `tries`-th "try again
 * later": the answer's Retry-After when it gives one, else a backoff from 0.5 s doubling
 * to 5 s, with jitter so the waiting requests do not come back together. The load once
 * retried every 0.5 s whatever the answer: under shedding thousands of submissions were
 * retried at once, the test process (which also runs the Kafka proxies) ran out of CPU,
 * and every role behind the proxies stalled with it.
 */
function retryPauseMs(tries: number, answer: Answer): number {
  const backoff = Math.min(500 * 2 ** Math.max(0, tries - 1), 5_000);
  return Math.max(answer.retryAfterMs ?? 0, backoff) * (0.8 + 0.4 * Math.random());
}

const CONFLICT_KEY = 'chaos/fixed/conflict';
/** Gives up on a submission after this long; the run then reports it as not submitted. */
export const SUBMIT_PATIENCE_MS = 120_000;

export class Load {
  readonly tasks: SubmittedTask[] = [];
  private n = 0;
  private readonly pending = new Set<Promise<void>>();

  constructor(
    private readonly random: Random,
    private readonly direct: DirectRoute,
    private readonly apiAddress: string,
  ) {}

  /**
   * The targets stacks land on, and the document conflicting creates collide with.
   * The load waits for them: without targets every stack would fail, and without the
   * conflicting key a "conflicting" create would complete.
   */
  async seed(ended: (taskId: string) => 'completed' | 'rolled-back' | 'rollback-failed' | undefined): Promise<SubmittedTask[]> {
    const tasks: SubmittedTask[] = [];
    for (let tries = 0; tries < 3; tries++) {
      const seeded = await this.seedOnce();
      tasks.push(seeded);
      const until = Date.now() + 90_000;
      while (ended(seeded.taskId) === undefined && Date.now() < until) await new Promise((resolve) => setTimeout(resolve, 200));
      if (ended(seeded.taskId) === 'completed') return tasks;
    }
    throw new Error(`the seed task never completed (tried ${tasks.length} times): ${tasks.map((t) => t.taskId).join(', ')}`);
  }

  private async seedOnce(): Promise<SubmittedTask> {
    const targets = [
      ['node-1', ['linux']],
      ['node-2', ['linux']],
      ['node-3', ['linux']],
      // Offers only `flaky`: the agent fails every ordinary job there (STACKL_AGENT_FAIL_TARGETS).
      ['flaky-1', ['flaky']],
    ] as const;
    const documents = [...targets.map(([name, capabilities]) => ({ key: `infrastructure/target/${name}`, body: { capabilities: [...capabilities] } })), { key: CONFLICT_KEY, body: { seeded: true } }];
    const seeded = this.make('seed', { kind: 'document', action: 'create', payload: { documents } }, this.direct.route);
    await this.submit(seeded);
    return seeded;
  }

  /** Submits one task of a randomly chosen scenario (in the background). */
  next(): void {
    const scenario = this.random.weighted(SCENARIO_WEIGHTS);
    const task = this.make(scenario, this.request(scenario), this.n % 2 === 0 ? 'api' : this.direct.route);
    const work = this.submit(task).then(async () => {
      if (scenario === 'probe-cancel' && task.accepted) {
        await new Promise((resolve) => setTimeout(resolve, this.random.int(300, 1_500)));
        await this.cancel(task);
      }
    });
    this.pending.add(work);
    void work.finally(() => this.pending.delete(work));
  }

  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private request(scenario: Scenario): SubmitRequest {
    const n = this.n;
    switch (scenario) {
      case 'probe-ok':
        return { kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: this.random.int(0, 400) } };
      case 'probe-fail':
        return { kind: 'probe', action: 'run', payload: { outcome: 'fail', rollback: 'succeed' }, maxAttempts: 2 };
      case 'probe-timeout':
        return { kind: 'probe', action: 'run', payload: { outcome: 'hang' }, timeoutMs: 6_000, maxAttempts: 1 };
      case 'probe-cancel':
        return { kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 4_000 } };
      case 'document':
        return { kind: 'document', action: 'create', payload: { documents: [{ key: `chaos/doc/t${n}-a`, body: { n } }, { key: `chaos/doc/t${n}-b`, body: { n, half: 2 } }] } };
      case 'document-conflict':
        return { kind: 'document', action: 'create', payload: { documents: [{ key: `chaos/doc/t${n}-x`, body: { n } }, { key: CONFLICT_KEY, body: { clobbered: n } }] } };
      case 'stack':
        return { kind: 'stack', action: 'create', payload: { name: `s${n}`, services: [{ name: 'web', requires: ['linux'], replicas: 2, config: { n } }, { name: 'db', requires: ['linux'] }] } };
      case 'stack-agent-failure':
        return { kind: 'stack', action: 'create', payload: { name: `s${n}`, services: [{ name: 'web', requires: ['linux'], replicas: 2 }, { name: 'gpu', requires: ['flaky'] }] }, maxAttempts: 2 };
      case 'seed':
        throw new Error('the seed task is built by seed()');
      default: {
        const never: never = scenario;
        throw new Error(`unknown scenario ${String(never)}`);
      }
    }
  }

  private make(scenario: Scenario, request: SubmitRequest, route: Route): SubmittedTask {
    const n = this.n++;
    const idempotencyKey = `chaos-${this.random.seed}-${n}`;
    // Backoff capped at 10 s: an order lost in a fault is tried again soon after the fault ends.
    const backoff = { initialMs: 500, multiplier: 2, maxMs: 10_000 };
    const full = { timeoutMs: 60_000, heartbeatTimeoutMs: HEARTBEAT_TIMEOUT_MS, maxAttempts: 3, rollbackMaxAttempts: 20, retryBackoff: backoff, rollbackBackoff: backoff, ...request, idempotencyKey };
    const task: SubmittedTask = { n, scenario, taskId: taskIdForKey(idempotencyKey), request: full as SubmittedTask['request'], route, submittedAt: 0, tries: 0, accepted: false, refusals: [], overloadedMs: 0 };
    this.tasks.push(task);
    return task;
  }

  private async submit(task: SubmittedTask): Promise<void> {
    const until = Date.now() + SUBMIT_PATIENCE_MS;
    while (Date.now() < until) {
      task.tries += 1;
      if (task.submittedAt === 0) task.submittedAt = Date.now();
      const answer = task.route === 'api' ? await this.post('/tasks', task.request) : await this.throughBroker(() => this.direct.commands.submit(task.request));
      if (answer.kind === 'accepted') {
        task.accepted = true;
        return;
      }
      // A refusal is kept for the report (and fails the run); the same request with the same key is still sent again.
      if (answer.kind !== 'transient') task.refusals.push(answer.text);
      else task.lastTransient = answer.text;
      const pauseMs = retryPauseMs(task.tries, answer);
      if (answer.declinedForBacklog === true) task.overloadedMs += Math.round(pauseMs);
      await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  }

  /**
   * Sends the cancel until it is answered. "Try again later" answers (the API, Kafka or
   * PostgreSQL away during a fault) are retried; any other failure is recorded as the cancel's error
   * and fails the run, as does a cancel that never got through.
   */
  private async cancel(task: SubmittedTask): Promise<void> {
    const record: CancelRecord = { requestedAt: Date.now(), tries: 0, transient: [] };
    task.cancel = record;
    const until = Date.now() + SUBMIT_PATIENCE_MS;
    while (Date.now() < until) {
      record.tries += 1;
      const answer = task.route === 'api' ? await this.post(`/tasks/${task.taskId}/cancel`, {}) : await this.throughBroker(() => this.direct.commands.cancel(task.taskId));
      if (answer.kind === 'accepted' || answer.kind === 'not-cancellable') {
        record.answer = answer.kind;
        return;
      }
      if (answer.kind === 'refused') {
        record.error = `cancel answered ${answer.text}`;
        return;
      }
      record.transient.push(answer.text);
      await new Promise((resolve) => setTimeout(resolve, retryPauseMs(record.tries, answer)));
    }
    record.error = `cancel not answered in ${SUBMIT_PATIENCE_MS} ms (${record.tries} tries; last: ${record.transient.slice(-3).join(' | ')})`;
  }

  private async throughBroker(send: () => Promise<unknown>): Promise<Answer> {
    const where = this.direct.route === 'kafka' ? 'task.requests' : 'the inbox';
    try {
      await send();
      return { kind: 'accepted', text: `in ${where}` };
    } catch (error) {
      // The client could not reach Kafka or PostgreSQL (a fault): the same request is sent again, under the same key.
      return { kind: 'transient', text: `${where}: ${(error as Error).message}` };
    }
  }

  private async post(path: string, body: unknown): Promise<Answer> {
    let response: Response;
    try {
      response = await fetch(`${this.apiAddress}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body), signal: AbortSignal.timeout(10_000) });
    } catch (error) {
      // No answer at all: the API is down or cut off (a fault).
      return { kind: 'transient', text: `${path}: ${(error as Error).message}` };
    }
    const text = await response.text().catch(() => '');
    const problem = parseProblem(text);
    const said = `${path} answered ${response.status}${problem?.code === undefined ? '' : ` ${problem.code}`}: ${text.slice(0, 300)}`;
    if (response.status === 202 || response.status === 200) return { kind: 'accepted', text: said };
    // The API's documented answer for a task that can no longer be cancelled.
    if (response.status === 409 && problem?.code === 'TASK_NOT_CANCELLABLE') return { kind: 'not-cancellable', text: said };
    // The API's documented "a backing service did not answer; retry later".
    if (response.status === 503 && problem?.retriable === true) {
      const retryAfterS = Number(response.headers.get('retry-after'));
      const declinedForBacklog = problem.code === 'OVERLOADED' && BACKLOG_SHED_REASONS.has(problem.reason ?? '');
      return { kind: 'transient', text: said, declinedForBacklog, ...(Number.isFinite(retryAfterS) && retryAfterS > 0 ? { retryAfterMs: retryAfterS * 1000 } : {}) };
    }
    return { kind: 'refused', text: said };
  }
}

/** Never accepted because the API shed it: its last answer was 503 OVERLOADED ("come back later"), as it is meant to be under overload. */
export function wasShed(task: SubmittedTask): boolean {
  return !task.accepted && task.lastTransient !== undefined && / answered 503 OVERLOADED/.test(task.lastTransient);
}

/**
 * Accepted by Kafka but refused by the broker because it was shedding load: the task's
 * first event is TaskRejected OVERLOADED, its one terminal answer. Nothing ran.
 */
export function shedByTheBroker(events: readonly { type: string; body?: unknown }[]): boolean {
  const first = events[0];
  return first?.type === 'TaskRejected' && (first.body as { code?: string } | undefined)?.code === 'OVERLOADED';
}

function parseProblem(text: string): { code?: string; retriable?: boolean; reason?: string } | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return typeof parsed === 'object' && parsed !== null ? (parsed as { code?: string; retriable?: boolean; reason?: string }) : undefined;
  } catch {
    return undefined;
  }
}
