// The whole task lifecycle through the loss of Kafka nodes, on a 3-node KRaft cluster of
// this file's own (replication factor 3, min.insync.replicas 2, on free ports of
// 127.0.0.1), with PostgreSQL of its own and every role a process of the built CLI:
// two brokers, a worker, the projector and the REST API.
//
// Phase 1: 2,000 probe tasks through the API; halfway through, the node leading the most
// partitions of task.requests and task.events is killed with SIGKILL. A client sends a
// refused or unanswered submission again with the same idempotency key (always safe).
// Every task answered 202 must end exactly once, no event may be in the log twice
// (event ids unique, each task's sequences 1..n), and the PostgreSQL projection must
// equal a replay of task.events and the test's own fold of it. The node comes back.
//
// Phase 2: one node killed, then a second: one node left, below min ISR. Submissions
// must be refused with a retriable 503 (problem+json, Retry-After), never accepted and
// then lost: a request with no answer is "unknown", a 202 must end exactly once after
// the nodes return, and so must any refused one that landed after all. Once the nodes
// are back the system takes submissions again by itself, and those tasks end.
//
// Every judgement reads task.events itself, from the start, with a read-committed
// consumer of its own. Role and Kafka logs, summary.json and, for any task whose history
// is not the usual one, its events, orders and results (unusual-<phase>.json) stay in
// .stackl/leader-kill/<time>/. A succeeding probe rolled back after its timeout ended
// once, but a result was lost on the way (the broker was fooled): that fails too.
// Needs `npm run build` first (the roles are the built CLI). LEADER_KILL_RATE (40/s).
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { logBounds } from '../../processors/projection/lag.js';
import { PROJECTOR_NAME, storedOffsets } from '../../processors/projection/offsets.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames, type TopicNames } from '../../topics/names.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { decode, taskDispatchSchema, taskResultSchema } from '../../schemas/index.js';
import { PrivatePostgres } from '../chaos/support/private-postgres.js';
import { historyMatchesLog, projectedEvents, projectedRows, projectionMatchesLog } from '../chaos/support/projection-check.js';
import { Role } from '../chaos/support/role.js';
import { outcomeOf } from '../support/consistency.js';
import { EventLog } from '../support/event-log.js';
import { uniquePrefix } from '../support/names.js';
import { envWithoutKafka, startOwnKafka, type OwnKafka } from '../support/own-kafka.js';
import { freePort } from '../support/ports.js';
import {
  accepted,
  busiestLeader,
  describeAnswer,
  duplicatedEventIds,
  judgeTasks,
  leaderTable,
  paced,
  partitionLeaders,
  ProbeSubmitter,
  readWholeLog,
  readWholeTopic,
  retriableRefusal,
  unexpectedAnswer,
  type Answer,
  type PartitionLeader,
  type Submission,
  type WholeLog,
} from './support/leader-kill.js';

const TASKS = 2_000;
/** Submissions started per second (LEADER_KILL_RATE to load it harder), and at most IN_FLIGHT waiting for their answer. */
const RATE = Number(process.env.LEADER_KILL_RATE ?? 40);
const IN_FLIGHT = 32;
/** The leader is killed when this many submissions have started. */
const KILL_AT = 1_000;
const PROBE_MS = 20;
/** Each task's whole timeout: a task whose work or result is lost is rolled back after this, and the drain waits for it. */
const TASK_TIMEOUT_MS = 120_000;
const SUBMIT_PATIENCE_MS = 120_000;
const DRAIN_MS = TASK_TIMEOUT_MS + 120_000;
const PARTITIONS = 6;
const NODES = [1, 2, 3];
/** Phase 2: submissions with one node left, each sent once. */
const OUTAGE_REQUESTS = 60;
const RECOVERY_TASKS = 100;

const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logDir = resolve('.stackl', 'leader-kill', stamp);
const schema = 'stackl';

let own: OwnKafka | undefined;
let postgres: PrivatePostgres | undefined;
const roles: Role[] = [];
let env: Record<string, string>;
let topics: TopicNames;
let kafka: Kafka;
let admin: Admin;
let live: EventLog | undefined;
let submitter: ProbeSubmitter;
let apiBase: string;
const summary: Record<string, unknown> = { logDir };
const note = (message: string): void => {
  process.stderr.write(`[leader-kill ${new Date().toISOString().slice(11, 23)}] ${message}\n`);
};

beforeAll(async () => {
  mkdirSync(logDir, { recursive: true });
  if (!existsSync('dist/api/cli/main.js')) throw new Error('the roles run the built CLI: run `npm run build` first (dist/api/cli/main.js is missing)');
  const began = Date.now();
  own = await startOwnKafka('leader-kill', { nodes: 3 });
  note(`3-node KRaft cluster on ${own.cluster.brokers.join(',')} in ${own.startMs} ms (home ${own.home})`);
  postgres = new PrivatePostgres();
  await postgres.start();
  note(`PostgreSQL of this file's own on 127.0.0.1:${postgres.port}`);
  const apiPort = await freePort();
  const apiKey = randomBytes(32).toString('hex');
  env = {
    KAFKA_BROKERS: own.cluster.brokers.join(','),
    DATABASE_URL: postgres.url(),
    STACKL_DB_SCHEMA: schema,
    STACKL_HOME: join(own.home, 'stack'),
    STACKL_TOPIC_PREFIX: uniquePrefix('leaderkill'),
    STACKL_PARTITIONS: String(PARTITIONS),
    STACKL_REPLICATION_FACTOR: '3',
    STACKL_MIN_INSYNC_REPLICAS: '2',
    STACKL_CHANNEL: 'kafka',
    STACKL_API_HOST: '127.0.0.1',
    STACKL_API_PORT: String(apiPort),
    STACKL_API_KEYS: `${apiKey}:submit,read`,
    STACKL_LOG_LEVEL: process.env.LEADER_KILL_LOG_LEVEL ?? 'info',
    STACKL_WORKER_CONCURRENCY: '16',
    STACKL_WORKER_SESSION_TIMEOUT_MS: '6000',
    STACKL_BROKER_SESSION_TIMEOUT_MS: '10000',
    // A leader kill stalls the workers for seconds, and the broker then sheds new tasks
    // (TaskRejected OVERLOADED after the API's 202: 170 tasks in one run). That is shedding
    // working, tested in test/integration/broker/shedding.test.ts; here every accepted probe
    // must run, so the broker's shedding is off (the API still sheds with 503).
    STACKL_BROKER_MAX_ORDER_WAIT_MS: '0',
    STACKL_BROKER_MAX_QUEUED_ORDERS: '0',
    STACKL_BROKER_MAX_REQUEST_AGE_MS: '0',
  };
  topics = topicNames(env.STACKL_TOPIC_PREFIX as string);
  cli('topics');
  cli('migrate');
  // Quiet: with nodes down kafkajs warns on every reconnect; the roles' logs hold the evidence.
  kafka = createKafka({ brokers: own.cluster.brokers, clientId: 'leader-kill-test', quiet: true });
  admin = kafka.admin();
  await admin.connect();
  // What the brief asks of the topics, checked rather than assumed.
  for (const leader of await partitionLeaders(admin, [topics.requests, topics.events])) {
    expect(leader.replicas, `${leader.topic}/${leader.partition} has 3 replicas`).toEqual(NODES);
  }
  const configs = await admin.describeConfigs({ includeSynonyms: false, resources: [topics.requests, topics.events].map((name) => ({ type: 2, name, configNames: ['min.insync.replicas'] })) });
  for (const resource of configs.resources) expect(resource.configEntries.find((c) => c.configName === 'min.insync.replicas')?.configValue, `${resource.resourceName} min.insync.replicas`).toBe('2');

  const role = (name: string, args: string[]): Role => new Role(name, args, env, logDir);
  roles.push(role('broker-1', ['broker']), role('broker-2', ['broker']), role('worker', ['worker']), role('projector', ['projector']), role('api', ['api']));
  for (const r of roles) {
    await r.start();
    note(`${r.name} ready (pid ${r.pid})`);
  }
  apiBase = `http://127.0.0.1:${apiPort}`;
  const health = await fetch(`${apiBase}/readyz`).catch((error: unknown) => {
    throw new Error(`the API on ${apiBase} cannot be reached: ${String(error)}`);
  });
  expect(health.status, `GET ${apiBase}/readyz`).toBe(200);
  submitter = new ProbeSubmitter(apiBase, apiKey, PROBE_MS, TASK_TIMEOUT_MS);
  live = new EventLog(kafka, topics.events);
  await live.start();
  summary.setupMs = Date.now() - began;
  note(`set up in ${Date.now() - began} ms; role logs in ${logDir}`);
}, 600_000);

afterAll(async () => {
  summary.roleRestarts = Object.fromEntries(roles.map((r) => [r.name, r.unexpectedExits]));
  writeFileSync(join(logDir, 'summary.json'), `${JSON.stringify(summary, null, 2)}\n`);
  await live?.stop().catch(() => {});
  await admin?.disconnect().catch(() => {});
  await Promise.allSettled(roles.map((r) => r.close()));
  if (own !== undefined) {
    cpSync(join(own.home, 'logs'), join(logDir, 'kafka'), { recursive: true });
    await own.close();
  }
  await postgres?.destroy();
  note(`logs (roles, Kafka nodes) and summary.json kept in ${logDir}`);
}, 180_000);

it(`phase 1: ${TASKS} tasks through the API, the node leading most task partitions killed halfway: every accepted task ends exactly once, no event twice, projection = replay`, async () => {
  const cluster = requireCluster();
  const phase: Submission[] = [];
  let killed: { nodeId: number; leads: number; pid: number | undefined; at: number; leaders: string } | undefined;
  const began = Date.now();
  await paced(
    TASKS,
    RATE,
    IN_FLIGHT,
    (i) => submitter.untilAccepted(phase[i] as Submission, SUBMIT_PATIENCE_MS),
    async (i) => {
      phase.push(submitter.make('phase1'));
      if (i !== KILL_AT) return;
      const leaders = await partitionLeaders(admin, [topics.requests, topics.events, topics.dispatch, topics.results]);
      const taskPartitions = leaders.filter((l) => l.topic === topics.requests || l.topic === topics.events);
      const busiest = busiestLeader(taskPartitions, NODES);
      killed = { ...busiest, pid: cluster.pid(busiest.nodeId), at: Date.now(), leaders: leaderTable(leaders) };
      cluster.kill(busiest.nodeId);
      note(`SIGKILL of node ${busiest.nodeId} (pid ${killed.pid}), leader of ${busiest.leads} of ${taskPartitions.length} task.requests/task.events partitions, after ${i} submissions started; leaders were: ${killed.leaders}`);
    },
  );
  const submitMs = Date.now() - began;
  expect(killed, 'the leader was killed during the submissions').toBeDefined();
  const kill = killed as NonNullable<typeof killed>;
  expect(cluster.pid(kill.nodeId), `node ${kill.nodeId} is dead after its SIGKILL`).toBeUndefined();
  const leadersAfter = await leadersNow();
  note(`submissions done in ${submitMs} ms; leaders now: ${leaderTable(leadersAfter)}`);

  await drain(phase);
  note(`restarting node ${kill.nodeId}`);
  await cluster.restart(kill.nodeId);
  await untilFullyReplicated();

  const log = await settledLog();
  const verdict = judge(phase, log);
  summary.phase1 = {
    submitMs,
    killed: { nodeId: kill.nodeId, leads: kill.leads, atMsIntoSubmission: kill.at - began, leadersBefore: kill.leaders, leadersAfter: leaderTable(leadersAfter) },
    answers: answerCounts(phase),
    acceptedTasks: phase.filter(accepted).length,
    ...verdict.figures,
  };
  note(`phase 1: ${JSON.stringify(summary.phase1)}`);
  await dumpUnusualHistories('phase1', log);
  expect.soft(lostResults(log), 'no worker result lost: every probe started and completed (see unusual-phase1.json)').toEqual([]);

  expect.soft(phase.flatMap((s) => s.answers.filter(unexpectedAnswer).map((a) => `task ${s.taskId}: ${describeAnswer(a)}${a.detail === undefined ? '' : ` (${a.detail})`}`)), 'every answer is 202 or a documented retriable 503 (or none at all)').toEqual([]);
  expect.soft(phase.filter((s) => !accepted(s)).map((s) => `task ${s.taskId}: never accepted in ${SUBMIT_PATIENCE_MS} ms; answers ${s.answers.map(describeAnswer).join(' | ')}`), 'with two nodes left every submission is accepted after a retry with its key').toEqual([]);
  expect.soft(verdict.violations, 'every task ends exactly once, no event twice, nothing lost').toEqual([]);
  expect.soft(await projectionViolations(log), 'the projection equals a replay of task.events, is not behind, and says what the log says').toEqual([]);
}, 1_500_000);

it('phase 2: with one node left (below min ISR) submissions are refused with a retriable 503, never accepted and lost; with the nodes back they are accepted again by themselves, and every task ends once', async () => {
  const cluster = requireCluster();
  await untilFullyReplicated();

  // One node down: writes still go through (min ISR 2).
  const first = busiestLeader(await leadersNow(), NODES);
  cluster.kill(first.nodeId);
  note(`SIGKILL of node ${first.nodeId} (leader of ${first.leads} task partitions)`);
  await untilFenced(first.nodeId);
  const twoNodes = Array.from({ length: 20 }, () => submitter.make('two-nodes'));
  await paced(twoNodes.length, 10, 20, (i) => submitter.untilAccepted(twoNodes[i] as Submission, 60_000));

  // A second node down: one left, below min.insync.replicas=2 (and no controller quorum).
  const rest = NODES.filter((n) => n !== first.nodeId);
  const second = busiestLeader(await leadersNow(), rest);
  cluster.kill(second.nodeId);
  const survivor = rest.find((n) => n !== second.nodeId);
  note(`SIGKILL of node ${second.nodeId}; node ${survivor} is the only one left`);
  await sleep(1_000);
  const outage = Array.from({ length: OUTAGE_REQUESTS }, () => submitter.make('one-node'));
  const readiness: number[] = [];
  await paced(outage.length, 2, OUTAGE_REQUESTS, async (i) => {
    await submitter.once(outage[i] as Submission);
    if (i % 20 === 0) readiness.push(await fetch(`${apiBase}/readyz/submit`, { signal: AbortSignal.timeout(10_000) }).then((r) => r.status, () => 0));
  });
  const outageAnswers = outage.flatMap((s) => s.answers);
  note(`one node left: ${JSON.stringify(answerCounts(outage))}; /readyz/submit answered ${readiness.join(',')}`);

  const restartedAt = Date.now();
  await Promise.all([cluster.restart(first.nodeId), cluster.restart(second.nodeId)]);
  const nodesBackMs = Date.now() - restartedAt;
  note(`nodes ${first.nodeId} and ${second.nodeId} back after ${nodesBackMs} ms`);
  // Recovery by itself: nobody touches the roles; the first submission to be accepted, then a batch.
  const probe = submitter.make('recovery-first');
  await submitter.untilAccepted(probe, 180_000);
  const firstAcceptedMs = Date.now() - restartedAt;
  const recovery = Array.from({ length: RECOVERY_TASKS }, () => submitter.make('recovery'));
  await paced(recovery.length, 20, 16, (i) => submitter.untilAccepted(recovery[i] as Submission, 60_000));
  note(`first submission accepted ${firstAcceptedMs} ms after the restart began; ${recovery.filter(accepted).length}/${recovery.length} of the batch accepted`);

  const everything = submitter.submissions;
  await drain(everything);
  await untilFullyReplicated();
  const log = await settledLog();
  const verdict = judge(everything, log);
  const outageAccepted = outage.filter(accepted);
  const outageLanded = outage.filter((s) => !accepted(s) && (log.byTask.get(s.taskId)?.length ?? 0) > 0);
  summary.phase2 = {
    killed: [first.nodeId, second.nodeId],
    survivor,
    twoNodes: answerCounts(twoNodes),
    outage: { ...answerCounts(outage), readyzSubmit: readiness, acceptedTasks: outageAccepted.map((s) => s.taskId), refusedButLanded: outageLanded.map((s) => `${s.taskId} (${s.answers.map(describeAnswer).join(' | ')})`) },
    nodesBackMs,
    firstAcceptedMsAfterRestart: firstAcceptedMs,
    recovery: answerCounts([probe, ...recovery]),
    ...verdict.figures,
  };
  note(`phase 2: ${JSON.stringify(summary.phase2)}`);
  await dumpUnusualHistories('phase2', log);
  expect.soft(lostResults(log), 'no worker result lost: every probe started and completed (see unusual-phase2.json)').toEqual([]);

  expect.soft(outageAnswers.filter(unexpectedAnswer).map(describeAnswer), 'with one node left every answer is a documented retriable 503 (or none, counted as unknown)').toEqual([]);
  expect.soft(outageAnswers.filter(retriableRefusal).length, `submissions are refused while one node is left (answers: ${JSON.stringify(answerCounts(outage))})`).toBeGreaterThan(0);
  expect.soft([...twoNodes, probe, ...recovery].filter((s) => !accepted(s)).map((s) => `task ${s.taskId} (${s.phase}): ${s.answers.map(describeAnswer).join(' | ')}`), 'with two or three nodes every submission is accepted (retried with its key)').toEqual([]);
  expect.soft(verdict.violations, 'every task ends exactly once (202s of every phase, and refused ones that landed), no event twice').toEqual([]);
  expect.soft(await projectionViolations(log), 'the projection equals a replay of task.events, is not behind, and says what the log says').toEqual([]);
}, 1_500_000);

/** Leaders of task.requests and task.events; asked again while the admin client still tries a dead node. */
async function leadersNow(): Promise<PartitionLeader[]> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await partitionLeaders(admin, [topics.requests, topics.events]);
    } catch (error) {
      if (attempt >= 20) throw error;
      await sleep(500);
    }
  }
}

function requireCluster(): OwnKafka['cluster'] {
  if (own === undefined) throw new Error('the Kafka cluster did not start (see beforeAll)');
  return own.cluster;
}

/** A one-shot `stackl` command against this file's cluster and database. */
function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const run = spawnSync(process.execPath, ['dist/api/cli/main.js', ...args], { env: { ...envWithoutKafka(), ...env, STACKL_LOG_LEVEL: 'warn' }, encoding: 'utf8', timeout: 300_000 });
  const result = { status: run.status ?? -1, stdout: run.stdout, stderr: run.stderr };
  if (args[0] !== 'replay' && result.status !== 0) throw new Error(`stackl ${args.join(' ')} failed (${result.status}): ${result.stderr}`);
  return result;
}

/** Waits (bounded) until every accepted task, and every task the log holds, has ended; the checks then say what did not. */
async function drain(submissions: readonly Submission[]): Promise<void> {
  const log = live as EventLog;
  const ended = (s: Submission): boolean => outcomeOf(log.byTask.get(s.taskId) ?? []) !== undefined;
  const due = (s: Submission): boolean => accepted(s) || log.byTask.has(s.taskId);
  const began = Date.now();
  await log
    .waitForAll(() => submissions.every((s) => !due(s) || ended(s)), DRAIN_MS, () => `${submissions.filter((s) => due(s) && !ended(s)).length} tasks not ended`)
    .catch((error: unknown) => note(`drain: ${(error as Error).message}`));
  note(`drain took ${Date.now() - began} ms`);
}

/** Every partition of every topic (STACKL's and Kafka's internal ones) back at 3 in-sync replicas. */
async function untilFullyReplicated(timeoutMs = 180_000): Promise<void> {
  await until('every partition has its 3 replicas in sync', timeoutMs, async () => {
    const metadata = await admin.fetchTopicMetadata();
    const short = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader < 0 || p.isr.length < p.replicas.length).map((p) => `${t.name}/${p.partitionId} isr [${p.isr.join(',')}]`));
    return short.length === 0 ? true : short.slice(0, 10).join('; ');
  });
}

/** The controllers fenced `nodeId`: it leads nothing and is in no ISR. */
async function untilFenced(nodeId: number, timeoutMs = 60_000): Promise<void> {
  await until(`node ${nodeId} is out of every ISR`, timeoutMs, async () => {
    const metadata = await admin.fetchTopicMetadata();
    const still = metadata.topics.flatMap((t) => t.partitions.filter((p) => p.leader === nodeId || p.leader < 0 || p.isr.includes(nodeId)).map((p) => `${t.name}/${p.partitionId}`));
    return still.length === 0 ? true : still.slice(0, 10).join('; ');
  });
}

/** The projector caught up with the end of task.events (no event of it left out of PostgreSQL), then the whole log, read from its start. */
async function settledLog(): Promise<WholeLog> {
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 });
  try {
    await until('the projection reached the end of task.events', 180_000, async () => {
      const [ends, stored] = await Promise.all([logBounds(admin, topics.events), storedOffsets(pool, { schema, topic: topics.events, projector: PROJECTOR_NAME })]);
      const behind = [...ends].filter(([p, b]) => (stored.get(p) ?? 0) < b.end).map(([p, b]) => `partition ${p}: ${stored.get(p) ?? 0} of ${b.end}`);
      return behind.length === 0 ? true : behind.join('; ');
    });
  } finally {
    await pool.end();
  }
  return readWholeLog(kafka, topics.events);
}

interface Verdict {
  violations: string[];
  figures: Record<string, unknown>;
}

/** Exactly once per task (accepted ones must exist), event ids unique, nothing in the log that nobody submitted. */
function judge(submissions: readonly Submission[], log: WholeLog): Verdict {
  const mine = new Set(submitter.submissions.map((s) => s.taskId));
  const label = (s: Submission): string => `${s.phase} #${s.n}, partition ${partitionForKey(s.taskId, PARTITIONS)}, ${accepted(s) ? 'answered 202' : 'never answered 202'}; answers ${s.answers.map(describeAnswer).join(' | ')}`;
  const judged = judgeTasks(
    submissions.map((s) => ({ taskId: s.taskId, label: label(s), mustExist: accepted(s) })),
    log.byTask,
  );
  const strangers = [...log.byTask.keys()].filter((id) => !mine.has(id)).map((id) => `task ${id} is in task.events but nobody submitted it: ${(log.byTask.get(id) ?? []).map((e) => e.type).join(' ')}`);
  const duplicates = duplicatedEventIds(log.events);
  const rolledBack = judged.rolledBack.map((id) => {
    const failed = log.byTask.get(id)?.find((e) => e.type === 'TaskFailed');
    return `${id} (${(failed?.body as { reason?: string; message?: string } | undefined)?.reason ?? '?'}: ${(failed?.body as { message?: string } | undefined)?.message ?? ''})`;
  });
  if (rolledBack.length > 0) note(`FINDING: ${rolledBack.length} succeeding probe tasks were rolled back instead of completing: ${rolledBack.slice(0, 20).join('; ')}`);
  return {
    violations: [...log.undecodable, ...judged.violations, ...duplicates, ...strangers],
    figures: {
      eventsInLog: log.events.length,
      tasksInLog: log.byTask.size,
      completed: judged.completed.length,
      rolledBack: rolledBack,
      rollbackGivenUp: judged.rollbackGivenUp,
      logEnds: Object.fromEntries(log.ends),
      endedMsAfterFirstSend: latency(submissions, log),
      historyShapes: shapes(log).counts,
    },
  };
}

/** `stackl replay` (rebuild into a fresh schema, compare row for row) plus the live rows and history against the test's own fold of the log. */
async function projectionViolations(log: WholeLog): Promise<string[]> {
  const violations: string[] = [];
  const run = cli('replay');
  let report: { equal?: boolean; events?: number; liveBehind?: Record<string, number>; differences?: { text: string }[] } | undefined;
  try {
    report = JSON.parse(run.stdout) as typeof report;
  } catch {
    violations.push(`stackl replay exited ${run.status} without a report: ${run.stderr.slice(-2000)}`);
  }
  if (report !== undefined) {
    violations.push(...(report.differences ?? []).map((d) => `replay differs: ${d.text}`));
    if (report.equal !== true) violations.push(`stackl replay says the live projection and the replay differ (exit ${run.status})`);
    for (const [partition, behind] of Object.entries(report.liveBehind ?? {})) if (behind > 0) violations.push(`the live projection is ${behind} offsets behind task.events partition ${partition}`);
    note(`stackl replay: ${report.events} events, equal ${report.equal}`);
  }
  const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: 1 });
  try {
    violations.push(...projectionMatchesLog(log.byTask, await projectedRows(pool, schema)));
    violations.push(...historyMatchesLog(log.byTask, await projectedEvents(pool, schema)));
  } finally {
    await pool.end();
  }
  return violations;
}

/** How many tasks have each sequence of event types; tasks whose sequence is not the commonest one are unusual. */
/**
 * Every probe here is asked to succeed, and the worker reports its start before working:
 * a history without AttemptStarted, or one that did not complete (rolled back at its
 * timeout because AttemptSucceeded never reached task.results), lost a worker's result.
 * A repeated AttemptStarted is not a loss: a start report whose answer was lost is sent
 * again, and the broker records it again.
 */
function lostResults(log: WholeLog): string[] {
  return [...log.byTask].flatMap(([id, events]) => {
    const types = events.map((e) => e.type);
    return types.includes('AttemptStarted') && types.includes('TaskCompleted') ? [] : [`task ${id}: ${types.join(' ')}`];
  });
}

function shapes(log: WholeLog): { counts: Record<string, number>; unusual: string[] } {
  const shapeOf = (id: string): string => (log.byTask.get(id) ?? []).map((e) => e.type).join(' ');
  const counts: Record<string, number> = {};
  for (const id of log.byTask.keys()) counts[shapeOf(id)] = (counts[shapeOf(id)] ?? 0) + 1;
  const commonest = Object.entries(counts).sort(([, a], [, b]) => b - a)[0]?.[0];
  return { counts, unusual: [...log.byTask.keys()].filter((id) => shapeOf(id) !== commonest) };
}

/**
 * Evidence for a task whose history is not the usual one (not a failure by itself: a
 * start report overtaken, a retry): every event with its position and time, and every
 * order and result about it on task.dispatch and task.results, into unusual-<phase>.json.
 */
async function dumpUnusualHistories(phase: string, log: WholeLog): Promise<void> {
  const unusual = new Set(shapes(log).unusual.slice(0, 50));
  if (unusual.size === 0) return;
  const [dispatch, results] = await Promise.all([
    readWholeTopic(kafka, topics.dispatch, (v) => decode(v, taskDispatchSchema)),
    readWholeTopic(kafka, topics.results, (v) => decode(v, taskResultSchema)),
  ]);
  const at = (t: number | string): string => new Date(Number(t)).toISOString().slice(11, 23);
  const tasks = [...unusual].map((taskId) => ({
    taskId,
    partition: partitionForKey(taskId, PARTITIONS),
    submission: submitter.submissions.find((s) => s.taskId === taskId)?.answers.map((a) => `${at(a.sentAt)} ${describeAnswer(a)}`),
    events: log.events.filter((e) => e.event.taskId === taskId).map((e) => `${e.partition}:${e.offset} ${at(e.event.time)} #${e.event.sequence} ${e.event.type} ${JSON.stringify(e.event.body).slice(0, 200)}`),
    dispatch: dispatch.records.filter((r) => r.value.taskId === taskId).map((r) => `${r.partition}:${r.offset} ${at(r.timestamp)} ${JSON.stringify(r.value).slice(0, 300)}`),
    results: results.records.filter((r) => r.value.taskId === taskId).map((r) => `${r.partition}:${r.offset} ${at(r.timestamp)} ${r.value.type} ${JSON.stringify(r.value.body).slice(0, 200)}`),
  }));
  writeFileSync(join(logDir, `unusual-${phase}.json`), `${JSON.stringify(tasks, null, 2)}\n`);
  note(`${unusual.size} task(s) with an unusual history; events, orders and results in unusual-${phase}.json: ${tasks.map((t) => `${t.taskId} [${t.events.map((e) => e.split(' ')[3]).join(' ')}] results [${t.results.map((r) => r.split(' ')[2]).join(' ')}]`).join('; ')}`);
}

/** From a task's first request to its end in the log (the writer's clock): the system's delay, not the test reader's. */
function latency(submissions: readonly Submission[], log: WholeLog): Record<string, Record<string, number>> {
  const phases = [...new Set(submissions.map((s) => s.phase))];
  return Object.fromEntries(phases.map((phase) => [phase, latencyOf(submissions.filter((s) => s.phase === phase), log)]));
}

function latencyOf(submissions: readonly Submission[], log: WholeLog): Record<string, number> {
  const ms = submissions
    .flatMap((s) => {
      const end = (log.byTask.get(s.taskId) ?? []).find((e) => e.type === 'TaskCompleted' || e.type === 'RollbackSucceeded');
      const first = s.answers[0];
      return end === undefined || first === undefined ? [] : [end.time - first.sentAt];
    })
    .sort((a, b) => a - b);
  const at = (q: number): number => ms[Math.min(ms.length - 1, Math.floor(q * ms.length))] ?? -1;
  return { tasks: ms.length, p50: at(0.5), p99: at(0.99), max: ms.at(-1) ?? -1 };
}

function answerCounts(submissions: readonly Submission[]): Record<string, number> {
  const counts: Record<string, number> = {};
  const add = (key: string): void => {
    counts[key] = (counts[key] ?? 0) + 1;
  };
  for (const s of submissions) {
    add(`tasks ${accepted(s) ? 'accepted' : 'not accepted'}`);
    for (const a of s.answers) add(answerKind(a));
  }
  return counts;
}

function answerKind(a: Answer): string {
  if (a.status === 0) return 'no answer (unknown)';
  if (a.status === 202) return '202';
  return `${a.status} ${a.code ?? '?'}${a.reason === undefined ? '' : `/${a.reason}`}${a.outcome === undefined ? '' : `/outcome ${a.outcome}`}`;
}

async function until(what: string, timeoutMs: number, check: () => Promise<true | string>): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const result = await check().catch((error: unknown) => `error: ${String(error)}`);
    if (result === true) return;
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms (last: ${result})`);
    await sleep(500);
  }
}
