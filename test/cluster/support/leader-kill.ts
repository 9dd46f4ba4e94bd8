// Helpers of the leader-kill cluster suite (test/cluster/lifecycle-leader-kill.test.ts):
// a REST client that submits probe tasks with an idempotency key each and keeps every
// answer it got (so a task id is known even when no answer came), a read of the whole
// of task.events from a fresh read-committed consumer up to the log's end, which nodes
// lead which partitions, and the per-task judgement "ended exactly once, no event twice".
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import { taskIdForKey } from '../../../processors/broker/ids.js';
import { logBounds } from '../../../processors/projection/lag.js';
import { decode, taskEventSchema, type TaskEventMessage } from '../../../schemas/index.js';
import { outcomeOf, type TaskOutcome } from '../../support/consistency.js';
import { token } from '../../support/names.js';

/** One HTTP answer to one POST /tasks (status 0: no answer at all, `error` says why). */
export interface Answer {
  sentAt: number;
  ms: number;
  status: number;
  contentType?: string;
  code?: string;
  reason?: string;
  /** `unknown` on a 503 whose command Kafka did not acknowledge in time: it may still land. */
  outcome?: string;
  retryAfter?: string;
  detail?: string;
  id?: string;
  error?: string;
}

export interface Submission {
  phase: string;
  n: number;
  key: string;
  /** Derived from the key, as the API derives it: known before any answer. */
  taskId: string;
  answers: Answer[];
}

export const accepted = (s: Submission): boolean => s.answers.some((a) => a.status === 202);
/** A 503 the API documents as "try again later": problem+json, a retriable code, Retry-After. */
export const retriableRefusal = (a: Answer): boolean =>
  a.status === 503 && (a.code === 'OVERLOADED' || a.code === 'SERVICE_UNAVAILABLE') && /problem\+json/.test(a.contentType ?? '') && /^\d+$/.test(a.retryAfter ?? '');
/** An answer no client may get here: anything but 202, a documented retriable 503, or no answer at all. */
export const unexpectedAnswer = (a: Answer): boolean => a.status !== 0 && a.status !== 202 && !retriableRefusal(a);

export function describeAnswer(a: Answer): string {
  if (a.status === 0) return `no answer after ${a.ms} ms (${a.error})`;
  const extra = [a.code, a.reason, a.outcome === undefined ? undefined : `outcome ${a.outcome}`].filter((x) => x !== undefined).join(', ');
  return `${a.status}${extra === '' ? '' : ` ${extra}`} after ${a.ms} ms`;
}

export class ProbeSubmitter {
  readonly submissions: Submission[] = [];

  constructor(
    private readonly base: string,
    private readonly apiKey: string,
    private readonly durationMs: number,
    private readonly timeoutMs: number,
  ) {}

  /** A new submission (not yet sent); its key is unique to this run. */
  make(phase: string): Submission {
    const key = `leader-kill/${phase}/${this.submissions.length}/${token()}`;
    const submission: Submission = { phase, n: this.submissions.length, key, taskId: taskIdForKey(key), answers: [] };
    this.submissions.push(submission);
    return submission;
  }

  /** One POST, its answer recorded. */
  async once(s: Submission, requestTimeoutMs = 30_000): Promise<Answer> {
    const body = JSON.stringify({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: this.durationMs }, idempotencyKey: s.key, timeoutMs: this.timeoutMs });
    const sentAt = Date.now();
    let answer: Answer;
    try {
      const response = await fetch(`${this.base}/tasks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', authorization: `Bearer ${this.apiKey}` },
        body,
        signal: AbortSignal.timeout(requestTimeoutMs),
      });
      const text = await response.text();
      const json = parse(text);
      answer = {
        sentAt,
        ms: Date.now() - sentAt,
        status: response.status,
        ...optional('contentType', response.headers.get('content-type')),
        ...optional('retryAfter', response.headers.get('retry-after')),
        ...optional('code', json.code),
        ...optional('reason', json.reason),
        ...optional('outcome', json.outcome),
        ...optional('detail', json.detail ?? (json.code === undefined && response.status !== 202 ? text.slice(0, 300) : undefined)),
        ...optional('id', json.id),
      };
    } catch (error) {
      answer = { sentAt, ms: Date.now() - sentAt, status: 0, error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
    }
    s.answers.push(answer);
    return answer;
  }

  /**
   * Sends again, with the same key (always safe), after every "try again later" or
   * missing answer, until a 202 or `patienceMs` passed; stops at once on any other answer.
   */
  async untilAccepted(s: Submission, patienceMs: number): Promise<void> {
    const until = Date.now() + patienceMs;
    for (;;) {
      const answer = await this.once(s);
      if (answer.status === 202 || unexpectedAnswer(answer) || Date.now() > until) return;
      const wait = answer.status === 0 ? 1_000 : Number(answer.retryAfter ?? '1') * 1000;
      await sleep(Math.min(wait, Math.max(0, until - Date.now())));
    }
  }
}

function parse(text: string): Record<string, string | undefined> {
  try {
    const value = JSON.parse(text) as unknown;
    if (value === null || typeof value !== 'object') return {};
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).filter(([, v]) => typeof v === 'string' || typeof v === 'number').map(([k, v]) => [k, String(v)]));
  } catch {
    return {};
  }
}

function optional<K extends string>(name: K, value: string | null | undefined): Partial<Record<K, string>> {
  return value === null || value === undefined ? {} : ({ [name]: value } as Record<K, string>);
}

/** Runs `work` for each of `count` items started at `perSecond`, at most `inFlight` at once; `onStart(i)` before item i starts. */
export async function paced(count: number, perSecond: number, inFlight: number, work: (i: number) => Promise<void>, onStart: (i: number) => Promise<void> | void = () => {}): Promise<void> {
  const running = new Set<Promise<void>>();
  const began = Date.now();
  for (let i = 0; i < count; i++) {
    const due = began + (i * 1000) / perSecond;
    if (due > Date.now()) await sleep(due - Date.now());
    while (running.size >= inFlight) await Promise.race(running);
    await onStart(i);
    const task = work(i).finally(() => running.delete(task));
    running.add(task);
  }
  await Promise.all(running);
}

export interface LoggedEvent {
  partition: number;
  offset: string;
  event: TaskEventMessage;
}

export interface WholeLog {
  events: LoggedEvent[];
  byTask: Map<string, TaskEventMessage[]>;
  /** Per partition, the end offset (what a read-committed consumer would get next) the read went to. */
  ends: Map<number, number>;
  /** Records that did not decode, by position. */
  undecodable: string[];
}

/** task.events, whole, decoded and grouped by task (see readWholeTopic). */
export async function readWholeLog(kafka: Kafka, topic: string, timeoutMs = 120_000): Promise<WholeLog> {
  const read = await readWholeTopic(kafka, topic, (value) => decode(value, taskEventSchema), timeoutMs);
  const log: WholeLog = { events: read.records.map((r) => ({ partition: r.partition, offset: r.offset, event: r.value })), byTask: new Map(), ends: read.ends, undecodable: read.undecodable };
  for (const { event } of log.events) {
    const list = log.byTask.get(event.taskId) ?? [];
    list.push(event);
    log.byTask.set(event.taskId, list);
  }
  return log;
}

export interface TopicRecord<T> {
  partition: number;
  offset: string;
  /** The broker's timestamp of the record. */
  timestamp: string;
  value: T;
}

/**
 * The whole of `topic`, read by a consumer of its own (a fresh group, read committed)
 * from the beginning to the end offsets taken when the read starts: independent of
 * every reader STACKL has (the projector, the replay). A record handed over twice (a
 * rejoin) is kept once by its offset; the log itself is what is judged. Records come
 * in log order per partition.
 */
export async function readWholeTopic<T>(kafka: Kafka, topic: string, decodeValue: (value: Buffer) => Promise<T>, timeoutMs = 120_000): Promise<{ records: TopicRecord<T>[]; ends: Map<number, number>; undecodable: string[] }> {
  const admin = kafka.admin();
  await admin.connect();
  const groupId = `leader-kill-read-${token()}`;
  const consumer = kafka.consumer({ groupId, readUncommitted: false, maxWaitTimeInMs: 100, maxBytesPerPartition: 4 * 1024 * 1024 });
  const records: TopicRecord<T>[] = [];
  const undecodable: string[] = [];
  let ends = new Map<number, number>();
  try {
    ends = new Map([...(await logBounds(admin, topic))].map(([p, b]) => [p, b.end]));
    const next = new Map<number, number>();
    const seen = new Set<string>();
    const caughtUp = (): boolean => [...ends].every(([p, end]) => (next.get(p) ?? 0) >= end);
    consumer.on(consumer.events.END_BATCH_PROCESS, ({ payload }) => {
      const after = Number(payload.lastOffset) + 1;
      if (after > (next.get(payload.partition) ?? 0)) next.set(payload.partition, after);
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ partition, message }) => {
        const position = `${partition}:${message.offset}`;
        if (seen.has(position) || Number(message.offset) >= (ends.get(partition) ?? 0)) return;
        seen.add(position);
        try {
          records.push({ partition, offset: message.offset, timestamp: message.timestamp, value: await decodeValue(message.value ?? Buffer.alloc(0)) });
        } catch (error) {
          undecodable.push(`${topic} ${position}: ${(error as Error).message}`);
        }
      },
    });
    const until = Date.now() + timeoutMs;
    while (!caughtUp()) {
      if (Date.now() > until) {
        const behind = [...ends].filter(([p, end]) => (next.get(p) ?? 0) < end).map(([p, end]) => `partition ${p} at ${next.get(p) ?? 0} of ${end}`);
        throw new Error(`reading ${topic} from its start did not reach its end within ${timeoutMs} ms: ${behind.join('; ')}`);
      }
      await sleep(100);
    }
    return { records, ends, undecodable };
  } finally {
    await consumer.disconnect().catch(() => {});
    await admin.deleteGroups([groupId]).catch(() => {});
    await admin.disconnect().catch(() => {});
  }
}

export interface PartitionLeader {
  topic: string;
  partition: number;
  leader: number;
  isr: number[];
  replicas: number[];
}

export async function partitionLeaders(admin: Admin, topics: string[]): Promise<PartitionLeader[]> {
  const metadata = await admin.fetchTopicMetadata({ topics });
  return metadata.topics.flatMap((t) => t.partitions.map((p) => ({ topic: t.name, partition: p.partitionId, leader: p.leader, isr: [...p.isr].sort(), replicas: [...p.replicas].sort() })));
}

/** The live node leading the most of these partitions (ties: the lower node id). */
export function busiestLeader(leaders: readonly PartitionLeader[], among: readonly number[]): { nodeId: number; leads: number } {
  const counts = new Map(among.map((n) => [n, 0]));
  for (const l of leaders) if (counts.has(l.leader)) counts.set(l.leader, (counts.get(l.leader) ?? 0) + 1);
  const [nodeId, leads] = [...counts].sort(([a, x], [b, y]) => y - x || a - b)[0] ?? [0, 0];
  return { nodeId, leads };
}

export function leaderTable(leaders: readonly PartitionLeader[]): string {
  return leaders.map((l) => `${l.topic.replace(/^.*task\./, 'task.')}/${l.partition}: leader ${l.leader}, isr [${l.isr.join(',')}]`).join('; ');
}

export interface Judgement {
  violations: string[];
  completed: string[];
  rolledBack: string[];
  rollbackGivenUp: string[];
}

/**
 * Every task given ends exactly once: one TaskCompleted, or one TaskFailed whose
 * rollback ended (outcomeOf: the last end of its rollback decides); its first event is
 * its one TaskSubmitted; its sequences are 1..n in log order, none twice. `mustExist`:
 * the API answered 202, so a task with no event at all was accepted and lost.
 */
export function judgeTasks(tasks: readonly { taskId: string; label: string; mustExist: boolean }[], byTask: ReadonlyMap<string, readonly TaskEventMessage[]>): Judgement {
  const judgement: Judgement = { violations: [], completed: [], rolledBack: [], rollbackGivenUp: [] };
  const v = judgement.violations;
  for (const { taskId, label, mustExist } of tasks) {
    const events = byTask.get(taskId) ?? [];
    if (events.length === 0) {
      if (mustExist) v.push(`task ${taskId} (${label}) was answered 202 but has no event in task.events: accepted and lost`);
      continue;
    }
    const types = events.map((e) => e.type);
    const history = events.map((e) => `${e.sequence}:${e.type}`).join(' ');
    const submitted = types.filter((t) => t === 'TaskSubmitted').length;
    if (types[0] !== 'TaskSubmitted' || submitted !== 1) v.push(`task ${taskId} (${label}) has ${submitted} TaskSubmitted and starts with ${types[0]}: ${history}`);
    const completed = types.filter((t) => t === 'TaskCompleted').length;
    const failed = types.filter((t) => t === 'TaskFailed').length;
    const outcome: TaskOutcome | undefined = outcomeOf(events);
    if (completed + failed === 0) v.push(`task ${taskId} (${label}) never ended (no TaskCompleted, no TaskFailed): ${history}`);
    else if (completed + failed > 1) v.push(`task ${taskId} (${label}) ended ${completed + failed} times (${completed} TaskCompleted, ${failed} TaskFailed): ${history}`);
    else if (outcome === undefined) v.push(`task ${taskId} (${label}) failed but its rollback never ended: ${history}`);
    else if (outcome === 'completed') judgement.completed.push(taskId);
    else if (outcome === 'rolled-back') judgement.rolledBack.push(taskId);
    else judgement.rollbackGivenUp.push(taskId);
    const sequences = events.map((e) => e.sequence);
    if (sequences.some((s, i) => s !== i + 1)) v.push(`task ${taskId} (${label}) has event sequences ${sequences.join(',')}, not 1..${events.length} (an event repeated or missing): ${history}`);
  }
  return judgement;
}

/** Event ids that appear more than once anywhere in the log, with where. */
export function duplicatedEventIds(events: readonly LoggedEvent[]): string[] {
  const where = new Map<string, LoggedEvent[]>();
  for (const e of events) where.set(e.event.eventId, [...(where.get(e.event.eventId) ?? []), e]);
  return [...where]
    .filter(([, list]) => list.length > 1)
    .map(([id, list]) => `event ${id} is in task.events ${list.length} times: ${list.map((e) => `task ${e.event.taskId} #${e.event.sequence} ${e.event.type} at ${e.partition}:${e.offset}`).join('; ')}`);
}
