// Hostile input, sent in rounds all through the run, through the REST API and straight to
// the broker (task.requests, or the custom broker's inbox): origins naming Kafka's and
// STACKL's own topics, payloads just under and over the size limit (the ones under are
// accepted and must complete), nesting 20,000 deep, replies to a reply topic that does not
// exist and (on Kafka) to one too small for them. Each submission knows how it must end;
// the hostile invariant checks that every one did, while the other invariants check that
// nothing else was harmed.
import { randomUUID } from 'node:crypto';
import type { Kafka } from 'kafkajs';
import type pg from 'pg';
import type { StacklConfig } from '../../../core/config.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, type TopicNames } from '../../../topics/names.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { rawSubmit } from '../../support/raw-requests.js';
import { inboxRowLanded, insertInbox } from './inbox.js';
import { shedByTheBroker, SUBMIT_PATIENCE_MS, type Route } from './load.js';

/** How a hostile submission must end. */
export type Expected =
  | { answer: 'refused'; status: number; code: string }
  | { answer: 'rejected'; code: string }
  | { answer: 'completed'; replyUndelivered?: string }
  | { answer: 'rolled-back' };

export interface HostileSubmission {
  what: string;
  route: Route;
  expected: Expected;
  taskId?: string;
  /** The API's answer (route api). */
  status?: number;
  code?: string;
  /** Set when it could not be sent at all (the run reports it). */
  error?: string;
}

export interface HostileTargets {
  /** An existing reply topic too small for a large reply. */
  tinyReplyTopic: string;
  /** A reply topic under the prefix that does not exist. */
  missingReplyTopic: string;
}

/** Creates the reply topics hostile rounds aim at. */
export async function prepareHostile(kafka: Kafka, config: StacklConfig): Promise<HostileTargets> {
  const targets = { tinyReplyTopic: `${config.replyTopicPrefix}tiny`, missingReplyTopic: `${config.replyTopicPrefix}nowhere` };
  const admin = kafka.admin();
  await admin.connect();
  try {
    await admin.createTopics({ topics: [{ topic: targets.tinyReplyTopic, numPartitions: 1, replicationFactor: 1, configEntries: [{ name: 'max.message.bytes', value: '2048' }] }] });
  } finally {
    await admin.disconnect();
  }
  return targets;
}

const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;

/** A ballast of quotes: each doubles when the state stores the payload as a JSON string. */
function ballast(payloadBytes: number): string {
  return '"'.repeat(Math.floor((payloadBytes - 64) / 2));
}

const internalTopics = (config: StacklConfig, topics: TopicNames): string[] => [
  '__consumer_offsets',
  '__transaction_state',
  topics.requests,
  topics.events,
  topics.dispatch,
  topics.rollbacks,
  topics.dlq,
  changelogTopic(config.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE),
];
const probe = (extra: Record<string, unknown> = {}) => ({ outcome: 'succeed', ...extra });

/**
 * One round through the REST API: every hostile shape once. The answers are the same with
 * either broker; with the custom one a topic origin is refused with the same 422
 * INVALID_ORIGIN whatever it names (it has no Kafka to reply to), which the internal names
 * here expect anyway.
 */
export async function hostileApiRound(api: string, config: StacklConfig, topics: TopicNames): Promise<HostileSubmission[]> {
  const internal = internalTopics(config, topics);
  const limit = config.maxPayloadBytes;
  const nearLimit = probe({ ballast: ballast(limit) });
  const overLimit = probe({ ballast: 'x'.repeat(limit) });

  const viaApi: [string, unknown, Expected][] = [
    ...internal.map((target): [string, unknown, Expected] => [`origin ${target}`, { kind: 'probe', action: 'run', payload: probe(), origin: { type: 'topic', target } }, { answer: 'refused', status: 422, code: 'INVALID_ORIGIN' }]),
    ['payload over the limit', { kind: 'probe', action: 'run', payload: overLimit }, { answer: 'refused', status: 413, code: 'PAYLOAD_TOO_LARGE' }],
    ['payload nested 20,000 deep', `{"kind":"probe","action":"run","payload":{"outcome":"succeed","ballast":${deep}}}`, { answer: 'refused', status: 400, code: 'PAYLOAD_TOO_DEEP' }],
    ['payload just under the limit', { kind: 'probe', action: 'run', payload: nearLimit }, { answer: 'completed' }],
    ['output just under its limit', { kind: 'probe', action: 'run', payload: probe({ outputBytes: config.maxOutputBytes - 64 }) }, { answer: 'completed' }],
    ['output over its limit', { kind: 'probe', action: 'run', payload: probe({ outputBytes: config.maxOutputBytes }) }, { answer: 'rolled-back' }],
  ];
  const sent: HostileSubmission[] = [];
  for (const [what, body, expected] of viaApi) sent.push(await postHostile(api, what, body, expected));
  return sent;
}

type DirectRecord = [string, Parameters<typeof rawSubmit>[1], Expected];

/** What a producer bypassing the API may send the broker itself, and how the broker must answer each. */
function directRecords(config: StacklConfig, topics: TopicNames, missingReplyTopic: string): DirectRecord[] {
  const limit = config.maxPayloadBytes;
  return [
    ...internalTopics(config, topics).map((target): DirectRecord => [`origin ${target}`, { origin: { type: 'topic', target } }, { answer: 'rejected', code: 'INVALID_ORIGIN' }]),
    ['payload over the limit', { payload: JSON.stringify(probe({ ballast: ballast(limit * 2) })) }, { answer: 'rejected', code: 'PAYLOAD_TOO_LARGE' }],
    ['payload nested 20,000 deep', { payload: `{"outcome":"succeed","ballast":${deep}}` }, { answer: 'rejected', code: 'INVALID_PAYLOAD' }],
    ['payload just under the limit', { payload: JSON.stringify(probe({ ballast: ballast(limit) })) }, { answer: 'completed' }],
    ['reply to a topic that does not exist', { origin: { type: 'topic', target: missingReplyTopic } }, { answer: 'completed', replyUndelivered: 'ORIGIN_TOPIC_MISSING' }],
  ];
}

/** One round straight to task.requests (through the roles' proxy), as a producer bypassing the API would send it. */
export async function hostileKafkaRound(kafka: Kafka, config: StacklConfig, topics: TopicNames, targets: HostileTargets): Promise<HostileSubmission[]> {
  const records: DirectRecord[] = [
    ...directRecords(config, topics, targets.missingReplyTopic),
    ['reply too large for its topic', { payload: JSON.stringify(probe({ outputBytes: 8_000 })), origin: { type: 'topic', target: targets.tinyReplyTopic } }, { answer: 'completed', replyUndelivered: 'MESSAGE_TOO_LARGE' }],
  ];
  return produceHostile(kafka, topics.requests, config.partitions, records);
}

/**
 * One round straight to the custom broker's inbox (through the roles' proxy): the rows a
 * producer bypassing the API writes, checked by nothing but the broker. Without Kafka no
 * reply topic exists, so a topic origin the broker lets through ends ORIGIN_TOPIC_MISSING
 * (the Kafka round's too-small reply topic has no counterpart here).
 */
export async function hostileInboxRound(pool: pg.Pool, config: StacklConfig, topics: TopicNames): Promise<HostileSubmission[]> {
  const records = directRecords(config, topics, `${config.replyTopicPrefix}nowhere`);
  const entries = records.map(([what, , expected]): HostileSubmission => ({ what, route: 'inbox', expected, taskId: randomUUID() }));
  const rows = records.map(([, body], i) => {
    const taskId = entries[i]?.taskId as string;
    return { taskId, source: 'request' as const, body: rawSubmit(taskId, body) };
  });
  // One row a statement, as the load's submissions come. PostgreSQL may be restarting or
  // cut off (a fault of the schedule): keep trying for a minute; a row whose insert failed
  // may have landed all the same (the commit's answer lost), and is never written twice.
  for (const [i, row] of rows.entries()) {
    for (let tries = 0; ; tries++) {
      try {
        await insertInbox(pool, config.databaseSchema, config.partitions, [row]);
        break;
      } catch (error) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        if (await inboxRowLanded(pool, config.databaseSchema, row.taskId).catch(() => false)) break;
        if (tries >= 60) {
          const entry = entries[i] as HostileSubmission;
          entry.error = (error as Error).message;
          break;
        }
      }
    }
  }
  return entries;
}

async function postHostile(api: string, what: string, body: unknown, expected: Expected): Promise<HostileSubmission> {
  const entry: HostileSubmission = { what, route: 'api', expected };
  // The API may be down for a while (a fault; a restarted API listens once Kafka answers,
  // which took 43 s when it was killed during a Kafka restart): ask again, as patiently
  // as the load asks with its own submissions.
  const until = Date.now() + SUBMIT_PATIENCE_MS;
  for (let tries = 0; ; tries++) {
    const patient = Date.now() < until;
    try {
      const response = await fetch(`${api}/tasks`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body), signal: AbortSignal.timeout(15_000) });
      const answer = (await response.json().catch(() => ({}))) as { code?: string; id?: string };
      if (response.status === 503 && patient) throw new Error('503: try again');
      entry.status = response.status;
      if (answer.code !== undefined) entry.code = answer.code;
      if (answer.id !== undefined) entry.taskId = answer.id;
      return entry;
    } catch (error) {
      if (!patient) return { ...entry, error: `${(error as Error).message} (${tries + 1} tries in ${SUBMIT_PATIENCE_MS / 1000} s)` };
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
}

async function produceHostile(kafka: Kafka, topic: string, partitions: number, records: [string, Parameters<typeof rawSubmit>[1], Expected][]): Promise<HostileSubmission[]> {
  const entries = records.map(([what, , expected]): HostileSubmission => ({ what, route: 'kafka', expected, taskId: randomUUID() }));
  const messages = records.map(([, body], i) => {
    const taskId = entries[i]?.taskId as string;
    return { key: taskId, value: rawSubmit(taskId, body), partition: partitionForKey(taskId, partitions) };
  });
  // Kafka may be restarting (a fault of the schedule): keep trying for a minute.
  for (let tries = 0; ; tries++) {
    const producer = kafka.producer({ idempotent: true });
    try {
      await producer.connect();
      // One record a request: the near-limit ones must not share a request with the rest.
      for (const message of messages) await producer.send({ topic, acks: -1, messages: [message] });
      return entries;
    } catch (error) {
      if (tries >= 60) return entries.map((e) => ({ ...e, error: (error as Error).message }));
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    } finally {
      await producer.disconnect().catch(() => {});
    }
  }
}

/**
 * A fault (a worker killed mid-attempt, a paused one) may time a task out, which then rolls
 * back as it must; counted apart, and a kind of submission that never completes at all is
 * a violation of its own (see hostileSummary).
 */
function timedOutByAFault(events: readonly TaskEventMessage[]): boolean {
  const failed = events.find((e) => e.type === 'TaskFailed')?.body as { reason?: string } | undefined;
  return failed?.reason === 'timeout' && events.some((e) => e.type === 'RollbackSucceeded') && !events.some((e) => e.type === 'TaskCompleted');
}

/** Per kind of submission: how many were sent, and how many of those that should complete did. */
export function hostileSummary(sent: readonly HostileSubmission[], histories: ReadonlyMap<string, readonly TaskEventMessage[]>): { byKind: Record<string, { sent: number; completed: number; timedOut: number }>; violations: string[] } {
  const byKind: Record<string, { sent: number; completed: number; timedOut: number }> = {};
  for (const s of sent) {
    const key = `${s.route} ${s.what}`;
    const row = (byKind[key] ??= { sent: 0, completed: 0, timedOut: 0 });
    row.sent += 1;
    const events = histories.get(s.taskId ?? '') ?? [];
    if (events.some((e) => e.type === 'TaskCompleted')) row.completed += 1;
    if (timedOutByAFault(events)) row.timedOut += 1;
  }
  const violations = sent
    .filter((s, i, all) => s.expected.answer === 'completed' && all.findIndex((o) => o.route === s.route && o.what === s.what) === i)
    .filter((s) => (byKind[`${s.route} ${s.what}`]?.completed ?? 0) === 0)
    .map((s) => `${s.route} ${s.what}: none of ${byKind[`${s.route} ${s.what}`]?.sent} completed`);
  return { byKind, violations };
}

/** Every hostile submission that did not end as it must, in words. */
export function hostileViolations(sent: readonly HostileSubmission[], histories: ReadonlyMap<string, readonly TaskEventMessage[]>): string[] {
  const violations: string[] = [];
  for (const s of sent) {
    const label = `${s.route} ${s.what}${s.taskId === undefined ? '' : ` (${s.taskId})`}`;
    if (s.error !== undefined) {
      violations.push(`${label}: not sent: ${s.error}`);
      continue;
    }
    if (s.expected.answer === 'refused') {
      if (s.status !== s.expected.status || s.code !== s.expected.code) violations.push(`${label}: answered ${s.status} ${s.code ?? ''}, expected ${s.expected.status} ${s.expected.code}`);
      continue;
    }
    // Shed under overload: the API said "come back later" before judging the body, as it must.
    if (s.route === 'api' && s.status === 503 && s.code === 'OVERLOADED') continue;
    if (s.route === 'api' && s.status !== 202) {
      violations.push(`${label}: answered ${s.status} ${s.code ?? ''}, expected 202`);
      continue;
    }
    const events = histories.get(s.taskId ?? '') ?? [];
    const types = events.map((e) => e.type);
    const count = (type: string) => types.filter((t) => t === type).length;
    // A valid submission the broker refused while shedding load: it never ran, as it must.
    if (s.expected.answer !== 'rejected' && shedByTheBroker(events)) continue;
    switch (s.expected.answer) {
      case 'rejected': {
        const code = (events.find((e) => e.type === 'TaskRejected')?.body as { code?: string } | undefined)?.code;
        if (count('TaskRejected') !== 1 || code !== s.expected.code || count('TaskSubmitted') !== 0) violations.push(`${label}: expected one TaskRejected ${s.expected.code}, history ${types.join(',') || '(none)'} code ${code ?? '-'}`);
        break;
      }
      case 'completed': {
        if (timedOutByAFault(events)) break;
        if (count('TaskCompleted') !== 1 || types.includes('TaskFailed')) violations.push(`${label}: expected to complete once, history ${types.join(',') || '(none)'}`);
        const undelivered = (events.find((e) => e.type === 'ReplyUndelivered')?.body as { code?: string } | undefined)?.code;
        if (undelivered !== s.expected.replyUndelivered) violations.push(`${label}: expected ReplyUndelivered ${s.expected.replyUndelivered ?? '(none)'}, got ${undelivered ?? '(none)'}`);
        break;
      }
      case 'rolled-back':
        if (types.includes('TaskCompleted') || !types.includes('RollbackSucceeded')) violations.push(`${label}: expected to fail and roll back, history ${types.join(',') || '(none)'}`);
        break;
      default:
        s.expected satisfies never;
    }
  }
  return violations;
}
