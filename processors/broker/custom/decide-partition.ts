// One decision step of one partition of the `custom` broker, as one PostgreSQL
// transaction on the connection that holds the partition's lock (so a broker that lost
// its connection, and with it the lock, can commit nothing): read what waits in the inbox
// and which deadlines are due, run the lifecycle processor on each as the Kafka broker
// does, then write the tasks' states, the events (numbered per partition), the orders and
// the dead letters, and delete the inputs decided.
import type pg from 'pg';
import type { Logger } from '../../../core/log.js';
import { failureHeaders, headersAsText } from '../../../topics/dead-letter.js';
import type { TopicNames } from '../../../topics/names.js';
import type { TaskState } from '../../lifecycle/index.js';
import { isTransient } from '../../runtime/failures.js';
import type { InputRecord, OutputRecord, StreamProcessor } from '../../runtime/types.js';
import { BatchContext, type StoredTask } from './batch-context.js';
import { brokerTables, type BrokerTables } from './tables.js';

export interface PartitionStepOptions {
  schema: string;
  topics: TopicNames;
  processor: StreamProcessor<TaskState>;
  /** How long an expunged task's id stays spent (0: forgotten at expunge). */
  idempotencyWindowMs: number;
  /** Whether a reply to a reply topic can be sent (Kafka is the channel), or is kept as a dead letter. */
  repliesToKafka: boolean;
  /** Inputs, and separately due deadlines, decided in one transaction at most. */
  maxInputs: number;
  log: Logger;
}

export interface StepOutcome {
  /** Inputs and deadlines decided: more may wait. */
  decided: number;
  /** Orders written: the dispatcher has work. */
  orders: number;
  /** The earliest deadline left on this partition, if any. */
  nextDeadline: number | undefined;
}

/** How long a deadline whose tick fails for good waits before it is tried again. */
const FAILED_TICK_RETRY_MS = 60_000;

interface InboxRow {
  id: string;
  source: 'request' | 'result';
  task_id: string;
  body: Buffer;
  received: string;
}

export async function decidePartition(client: pg.Client, partition: number, options: PartitionStepOptions): Promise<StepOutcome> {
  const t = brokerTables(options.schema);
  await client.query('begin');
  try {
    const outcome = await decideIn(client, t, partition, options);
    await client.query('commit');
    return outcome;
  } catch (error) {
    await client.query('rollback').catch(() => {});
    throw error;
  }
}

async function decideIn(client: pg.Client, t: BrokerTables, partition: number, options: PartitionStepOptions): Promise<StepOutcome> {
  const now = Date.now();
  await client.query(`insert into ${t.partitions} (partition) values ($1) on conflict do nothing`, [partition]);
  const { rows: offsets } = await client.query<{ next_offset: string }>(`select next_offset from ${t.partitions} where partition = $1 for update`, [partition]);
  const inbox = (await client.query<InboxRow>(`select id, source, task_id, body, (extract(epoch from received_at) * 1000)::bigint as received from ${t.inbox} where partition = $1 order by id limit $2`, [partition, options.maxInputs])).rows;
  const due = (await client.query<{ task_id: string }>(`select task_id from ${t.tasks} where partition = $1 and next_deadline <= $2 and state is not null order by next_deadline limit $3`, [partition, now, options.maxInputs])).rows.map((r) => r.task_id);
  const stored = await readTasks(client, t, [...new Set([...inbox.map((r) => r.task_id), ...due])]);
  const ctx = new BatchContext(partition, now, stored);
  const deadLetters: { source: string; taskId: string; value: Buffer | null; headers: Record<string, string> }[] = [];
  const postponed: string[] = [];

  for (const row of inbox) {
    try {
      await options.processor.onRecord(ctx, inputRecord(row, partition, options.topics));
      ctx.keep();
    } catch (error) {
      ctx.discard();
      // A fault of the moment (the database, say) is retried with the whole step, never dead-lettered.
      if (isTransient(error)) throw error;
      deadLetters.push({ source: `inbox:${row.source}`, taskId: row.task_id, value: row.body, headers: { ...headersAsText(failureHeaders(error)), 'stackl.dlq.inbox-id': row.id } });
    }
  }
  for (const taskId of due) {
    try {
      await options.processor.onDeadline(ctx, taskId);
      ctx.keep();
    } catch (error) {
      ctx.discard();
      if (isTransient(error)) throw error;
      options.log.error('a deadline could not be decided; tried again later', { partition, taskId, error });
      postponed.push(taskId);
    }
  }

  const nextOffset = await writeOutputs(client, t, partition, BigInt(offsets[0]?.next_offset ?? '0'), ctx.outputs, options, deadLetters);
  await writeStates(client, t, partition, ctx, options, now);
  if (postponed.length > 0) await client.query(`update ${t.tasks} set next_deadline = $2 where task_id = any($1)`, [postponed, now + FAILED_TICK_RETRY_MS]);
  await client.query(`delete from ${t.tasks} where partition = $1 and state is null and retired_until <= $2`, [partition, now]);
  if (inbox.length > 0) await client.query(`delete from ${t.inbox} where id = any($1::bigint[])`, [inbox.map((r) => r.id)]);
  await client.query(`update ${t.partitions} set next_offset = $2 where partition = $1`, [partition, nextOffset.toString()]);
  const orders = ctx.outputs.filter((o) => isOrder(o, options.topics)).length;
  if (orders > 0) await client.query(`select pg_notify($1, $2)`, [t.outboxChannel, String(partition)]);
  const { rows: next } = await client.query<{ at: string | null }>(`select min(next_deadline) as at from ${t.tasks} where partition = $1 and next_deadline is not null`, [partition]);
  const at = next[0]?.at;
  return { decided: inbox.length + due.length, orders, nextDeadline: at === null || at === undefined ? undefined : Number(at) };
}

async function readTasks(client: pg.Client, t: BrokerTables, taskIds: string[]): Promise<Map<string, StoredTask>> {
  if (taskIds.length === 0) return new Map();
  const { rows } = await client.query<{ task_id: string; state: TaskState | null; retired_until: string | null }>(`select task_id, state, retired_until from ${t.tasks} where task_id = any($1)`, [taskIds]);
  return new Map(rows.map((r) => [r.task_id, { state: r.state ?? undefined, retiredUntil: r.retired_until === null ? undefined : Number(r.retired_until) }]));
}

function inputRecord(row: InboxRow, partition: number, topics: TopicNames): InputRecord {
  return {
    topic: row.source === 'request' ? topics.requests : topics.results,
    partition,
    offset: row.id,
    key: Buffer.from(row.task_id),
    value: row.body,
    headers: {},
    timestamp: String(row.received),
  };
}

function isOrder(output: OutputRecord, topics: TopicNames): boolean {
  return output.topic === topics.dispatch || output.topic === topics.rollbacks;
}

/** Events to the log, orders to the outbox, dead letters aside; returns the partition's next event offset. */
async function writeOutputs(
  client: pg.Client,
  t: BrokerTables,
  partition: number,
  firstOffset: bigint,
  outputs: OutputRecord[],
  { topics, repliesToKafka }: Pick<PartitionStepOptions, 'topics' | 'repliesToKafka'>,
  deadLetters: { source: string; taskId: string; value: Buffer | null; headers: Record<string, string> }[],
): Promise<bigint> {
  const events: { offset: string; taskId: string; value: Buffer }[] = [];
  const orders: { queue: string; taskId: string; value: Buffer }[] = [];
  let offset = firstOffset;
  for (const output of outputs) {
    const taskId = keyText(output.key);
    const value = output.value ?? Buffer.alloc(0);
    if (output.topic === topics.events) {
      events.push({ offset: offset.toString(), taskId, value });
      offset += 1n;
    } else if (output.topic === topics.dispatch) orders.push({ queue: 'runs', taskId, value });
    else if (output.topic === topics.rollbacks) orders.push({ queue: 'rollbacks', taskId, value });
    else if (output.topic === topics.notifications) orders.push({ queue: 'notifications', taskId, value });
    // A reply to the reply topic a task named: the Kafka relay sends it.
    else if (output.topic !== topics.dlq && repliesToKafka) orders.push({ queue: `reply:${output.topic}`, taskId, value });
    // The dead-letter topic, and a reply without Kafka: kept aside.
    else deadLetters.push({ source: output.topic === topics.dlq ? 'lifecycle' : `reply:${output.topic}`, taskId, value: output.value, headers: headersAsText(output.headers ?? {}) });
  }
  if (events.length > 0) {
    await client.query(`insert into ${t.events} (partition, "offset", task_id, value) select $1, * from unnest($2::bigint[], $3::text[], $4::bytea[])`, [partition, events.map((e) => e.offset), events.map((e) => e.taskId), events.map((e) => e.value)]);
  }
  if (orders.length > 0) {
    await client.query(`insert into ${t.outbox} (queue, task_id, value) select * from unnest($1::text[], $2::text[], $3::bytea[])`, [orders.map((o) => o.queue), orders.map((o) => o.taskId), orders.map((o) => o.value)]);
  }
  for (const dead of deadLetters) {
    await client.query(`insert into ${t.deadLetters} (source, task_id, value, headers) values ($1, $2, $3, $4)`, [dead.source, dead.taskId, dead.value, JSON.stringify(dead.headers)]);
  }
  return offset;
}

/** States decided in this step: kept with their next deadline, retired (id spent for the window) or deleted. */
async function writeStates(client: pg.Client, t: BrokerTables, partition: number, ctx: BatchContext, options: PartitionStepOptions, now: number): Promise<void> {
  const kept: { taskId: string; state: string; deadline: string | null }[] = [];
  const retired: string[] = [];
  const deleted: string[] = [];
  for (const [taskId, state] of ctx.states) {
    if (state !== undefined) {
      const deadline = options.processor.deadlineOf(state);
      kept.push({ taskId, state: JSON.stringify(state), deadline: deadline === null ? null : String(deadline) });
    } else if (ctx.retiring.has(taskId) && options.idempotencyWindowMs > 0) retired.push(taskId);
    else deleted.push(taskId);
  }
  if (kept.length > 0) {
    await client.query(
      `insert into ${t.tasks} (task_id, partition, state, next_deadline, retired_until)
       select k.task_id, $1, k.state::jsonb, k.deadline, null from unnest($2::text[], $3::text[], $4::bigint[]) as k(task_id, state, deadline)
       on conflict (task_id) do update set state = excluded.state, next_deadline = excluded.next_deadline, retired_until = null`,
      [partition, kept.map((k) => k.taskId), kept.map((k) => k.state), kept.map((k) => k.deadline)],
    );
  }
  if (retired.length > 0) {
    await client.query(
      `insert into ${t.tasks} (task_id, partition, state, next_deadline, retired_until) select r, $1, null, null, $3 from unnest($2::text[]) as r
       on conflict (task_id) do update set state = null, next_deadline = null, retired_until = excluded.retired_until`,
      [partition, retired, now + options.idempotencyWindowMs],
    );
  }
  if (deleted.length > 0) await client.query(`delete from ${t.tasks} where task_id = any($1)`, [deleted]);
}

function keyText(key: OutputRecord['key']): string {
  if (key === null) return '';
  return typeof key === 'string' ? key : key.toString('utf8');
}

