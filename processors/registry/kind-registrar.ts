// A worker's side of the registry (task.kinds, or broker_kinds under the custom broker):
// before it takes orders it publishes the kinds it serves, so brokers accept their tasks and clients can read their schemas. A kind
// already registered may only change compatibly (kind-compatibility.ts); otherwise the
// worker refuses to start, naming each field, rather than accept work it would read
// differently from the tasks already written.
import type { Admin, Kafka } from 'kafkajs';
import pg from 'pg';
import { ConfigError } from '../../core/errors.js';
import { inTransaction } from '../../core/pg-transaction.js';
import { createLogger } from '../../core/log.js';
import type { NamedKind } from '../lifecycle/index.js';
import { KindCatalogue } from './kind-catalogue.js';
import { compatibilityProblems } from './kind-compatibility.js';
import { kindRecordOf, MAX_KIND_RECORD_BYTES, checkKindRecord, type KindRecord } from './kind-record.js';

export interface RegisterKindsOptions {
  kafka: Kafka;
  admin: Admin;
  topic: string;
  groupPrefix: string;
  kinds: readonly NamedKind[];
  pool: string;
  workerId: string;
  /**
   * The built-in kinds: this code defines them, brokers never take their shape from the
   * registry, and a STACKL upgrade may change them; registered to be listed, never refused.
   */
  authoritative?: boolean;
}

/** Publishes each kind that is new or changed on task.kinds; returns the records as registered. */
export async function registerKinds(options: RegisterKindsOptions): Promise<KindRecord[]> {
  // The built-in kinds are published as they are, with nothing to compare: no reading needed.
  const current = options.authoritative === true ? undefined : new KindCatalogue({ kafka: options.kafka, admin: options.admin, topic: options.topic, groupPrefix: options.groupPrefix, builtIns: {} });
  await current?.start();
  try {
    const { records, changed } = planRegistration(options, (name) => current?.record(name) ?? null);
    if (changed.length > 0) {
      const producer = options.kafka.producer({ allowAutoTopicCreation: false, idempotent: true });
      await producer.connect();
      try {
        await producer.send({ topic: options.topic, acks: -1, messages: changed.map((r) => ({ key: r.name, value: JSON.stringify(r) })) });
      } finally {
        await producer.disconnect();
      }
    }
    logRegistered(options, records, changed);
    return records;
  } finally {
    await current?.stop();
  }
}

export type RegisterInTableOptions = Omit<RegisterKindsOptions, 'kafka' | 'admin' | 'topic' | 'groupPrefix'> & { pool: string; database: pg.Pool; schema: string };

/** The custom broker's registry: the same rules, in one transaction over broker_kinds. */
export async function registerKindsInTable(options: RegisterInTableOptions): Promise<KindRecord[]> {
  const table = `${pg.escapeIdentifier(options.schema)}.broker_kinds`;
  const { records, changed } = await inTransaction(options.database, async (client) => {
    // Locks the rows of these kinds (two workers of one kind register one after the other).
    const { rows } = await client.query<{ name: string; record: unknown }>(`select name, record from ${table} where name = any($1) for update`, [options.kinds.map((k) => k.name)]);
    const held = new Map<string, KindRecord>();
    for (const row of rows) {
      const parsed = checkKindRecord(row.record);
      if (parsed.ok) held.set(row.name, parsed.record);
    }
    const plan = planRegistration(options, (name) => held.get(name) ?? null);
    for (const record of plan.changed) {
      await client.query(`insert into ${table} (name, record) values ($1, $2) on conflict (name) do update set record = excluded.record, registered_at = now()`, [record.name, JSON.stringify(record)]);
    }
    return plan;
  });
  logRegistered(options, records, changed);
  return records;
}

/** The records to publish, refusing (every problem named) what may not change this way. */
function planRegistration(options: Pick<RegisterKindsOptions, 'kinds' | 'pool' | 'workerId' | 'authoritative'>, held: (name: string) => KindRecord | null): { records: KindRecord[]; changed: KindRecord[] } {
  const records = options.kinds.map((kind) => kindRecordOf(kind, options.pool, options.workerId));
  const changed: KindRecord[] = [];
  const refusals: string[] = [];
  for (const record of records) {
    const bytes = Buffer.byteLength(JSON.stringify(record));
    if (bytes > MAX_KIND_RECORD_BYTES) refusals.push(`kind "${record.name}": its record is ${bytes} bytes, more than the registry takes (${MAX_KIND_RECORD_BYTES})`);
    const previous = held(record.name);
    if (previous !== null && sameDefinition(previous, record)) continue;
    const problems = previous === null || options.authoritative === true ? [] : compatibilityProblems(previous, record);
    if (problems.length > 0) refusals.push(`kind "${record.name}" (registered as version ${previous?.version} by ${previous?.registeredBy}) cannot change this way: ${problems.join('; ')}`);
    changed.push(record);
  }
  if (refusals.length > 0) {
    throw new ConfigError(`the kind registry refuses this worker's kinds:\n  - ${refusals.join('\n  - ')}\nmake each change compatible (new fields optional, nothing removed), or give the changed kind a new name`, { refusals });
  }
  return { records, changed };
}

function logRegistered(options: Pick<RegisterKindsOptions, 'pool' | 'workerId'>, records: KindRecord[], changed: KindRecord[]): void {
  createLogger({ component: 'kind-registrar', workerId: options.workerId }).info('kinds registered', { pool: options.pool, kinds: records.map((r) => r.name), published: changed.map((r) => r.name) });
}

/** Equal but for who registered it and when: nothing to publish. */
function sameDefinition(a: KindRecord, b: KindRecord): boolean {
  const strip = ({ registeredAt: _at, registeredBy: _by, ...rest }: KindRecord): string => JSON.stringify(rest);
  return strip(a) === strip(b);
}
