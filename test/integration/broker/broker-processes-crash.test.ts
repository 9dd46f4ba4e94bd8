// Both brokers as separate processes (`stackl broker`, STACKL_BROKER=kafka or custom), with
// a worker on the rabbitmq channel: two brokers share the partitions; one killed -9 in the
// middle of a run hands its partitions to the other, so every task still ends exactly once
// and no event is written twice. For the custom broker also: its log keeps no gap;
// PostgreSQL dropping every broker connection is survived the same way, also when it then
// refuses the broker's reconnects for a few seconds (a broker whose reconnect failed once
// used to stand still for good); and the connection of orders waiting for RabbitMQ's
// confirm dying under them no longer ends the broker's process (both found by the chaos
// suite on the custom broker).
import { AssignerProtocol } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import type { Relay } from '../../../channels/start-relay.js';
import { startRabbitRelay } from '../../../channels/start-relay.js';
import { InboxClient } from '../../../processors/broker/custom/inbox-client.js';
import { KafkaBrokerClient } from '../../../processors/broker/kafka-broker-client.js';
import type { Receipt, SubmitRequest } from '../../../processors/broker/task-broker.js';
import type { TaskEventMessage } from '../../../schemas/index.js';
import { consumerGroup, LIFECYCLE_APP, topicNames } from '../../../topics/names.js';
import { startWorker } from '../../../workers/start-worker.js';
import type { Worker } from '../../../workers/worker.js';
import { EventLog } from '../../support/event-log.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, testDatabaseUrl, uniqueSchema } from '../../support/postgres.js';
import { rabbitUrl } from '../../support/rabbitmq-server.js';
import { RoleProcess } from '../../support/role-process.js';
import { TableEventLog } from '../../support/table-event-log.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const PARTITIONS = 6;

interface Side {
  submitMany(requests: SubmitRequest[]): Promise<Receipt[]>;
  log: { all: TaskEventMessage[]; types(taskId: string): string[]; waitForAll(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> };
  /** Which broker holds each partition now. */
  owners(): Promise<Map<number, string>>;
  stop(): Promise<void>;
}

async function until(check: () => Promise<boolean>, what: string, timeoutMs = 45_000): Promise<void> {
  for (const end = Date.now() + timeoutMs; !(await check()); await new Promise((resolve) => setTimeout(resolve, 200))) {
    if (Date.now() > end) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

describe.each(['kafka', 'custom'] as const)('%s broker processes', (brokerName) => {
  const schema = uniqueSchema(`crash_${brokerName}`);
  const prefix = uniquePrefix(`crash-${brokerName}`);
  const env = { STACKL_TOPIC_PREFIX: prefix, STACKL_PARTITIONS: String(PARTITIONS), STACKL_DB_SCHEMA: schema, STACKL_BROKER: brokerName, STACKL_CHANNEL: 'rabbitmq', RABBITMQ_URL: rabbitUrl(), DATABASE_URL: testDatabaseUrl(), STACKL_BROKER_SESSION_TIMEOUT_MS: '6000' };
  const pool = new pg.Pool({ connectionString: testDatabaseUrl(), max: 4 });
  const brokers: RoleProcess[] = [];
  let side: Side;
  let relay: Relay | undefined;
  let worker: Worker;

  const startBroker = async (): Promise<void> => {
    const role = new RoleProcess('broker', env, /ready/);
    await role.start();
    brokers.push(role);
  };

  function kafkaSide(): Side {
    const kafka = testKafka();
    const topics = topicNames(prefix);
    const client = new KafkaBrokerClient(kafka, topics.requests, PARTITIONS);
    const log = new EventLog(kafka, topics.events);
    const admin = kafka.admin();
    let connected: Promise<void> | undefined;
    return {
      submitMany: (requests) => client.submitMany(requests),
      log,
      async owners() {
        connected ??= admin.connect();
        await connected;
        const [group] = (await admin.describeGroups([consumerGroup(prefix, LIFECYCLE_APP)])).groups;
        const owned = new Map<number, string>();
        for (const member of group?.members ?? []) {
          // The assignment is kafkajs' member metadata: read it with the protocol's own decoder.
          const assignment = AssignerProtocol.MemberAssignment.decode(member.memberAssignment);
          for (const partition of assignment?.assignment[topics.requests] ?? []) owned.set(partition, member.memberId);
        }
        return owned;
      },
      async stop() {
        await Promise.all([log.stop(), client.close(), admin.disconnect()]);
      },
    };
  }

  function customSide(): Side {
    const client = new InboxClient({ pool, schema, partitions: PARTITIONS });
    const log = new TableEventLog(pool, schema);
    return {
      submitMany: (requests) => client.submitMany(requests),
      log,
      async owners() {
        const { rows } = await pool.query<{ partition: number; name: string }>(
          `select l.objid::int as partition, a.application_name as name from pg_locks l join pg_stat_activity a on a.pid = l.pid
           where l.locktype = 'advisory' and l.granted and l.objsubid = 2 and l.classid = hashtext($1)::oid`,
          [`stackl.custom-broker:${schema}`],
        );
        // Partition connections are named after their broker: "stackl-custom-broker <member> p<n>".
        return new Map(rows.map((r) => [r.partition, r.name.split(' ')[1] ?? r.name]));
      },
      async stop() {
        await log.stop();
        await client.close();
      },
    };
  }

  const ended = (id: string) => ['TaskCompleted', 'RollbackSucceeded'].includes(side.log.types(id).at(-1) ?? '');

  async function expectEachEndedOnce(ids: string[]): Promise<void> {
    await side.log.waitForAll(() => ids.every(ended), 90_000, () => `${ids.filter((id) => !ended(id)).length} of ${ids.length} not ended`);
    for (const id of ids) expect(side.log.types(id).filter((t) => t === 'TaskCompleted' || t === 'TaskFailed'), id).toHaveLength(1);
    const written = side.log.all.map((e) => `${e.taskId}#${e.sequence}`);
    expect(new Set(written).size).toBe(written.length);
  }

  beforeAll(async () => {
    const config = loadConfig({ ...process.env, ...env });
    await migrate(testDatabaseUrl(), schema);
    await startBroker();
    side = brokerName === 'kafka' ? kafkaSide() : customSide();
    if (side.log instanceof EventLog) await side.log.start();
    else if (side.log instanceof TableEventLog) side.log.start();
    if (brokerName === 'kafka') relay = await startRabbitRelay(config);
    worker = await startWorker(config, { ...env, STACKL_WORKER_CONCURRENCY: '8' });
  }, 120_000);
  afterAll(async () => {
    await worker?.stop();
    await relay?.stop();
    await side?.stop();
    await Promise.all(brokers.map((b) => b.kill('SIGTERM')));
    await pool.end();
    await dropSchema(schema);
  });

  it('share the partitions between two brokers', { timeout: 90_000 }, async () => {
    await startBroker();
    await until(async () => {
      const held = await side.owners();
      return held.size === PARTITIONS && new Set(held.values()).size === 2;
    }, 'both brokers holding a share of all partitions');
  });

  it('lose no task and end none twice when a broker is killed -9 mid-run', { timeout: 150_000 }, async () => {
    const receipts = await side.submitMany(Array.from({ length: 120 }, (_, i) => ({ kind: 'probe', action: 'run', payload: { outcome: i % 5 === 0 ? 'fail' : 'succeed', durationMs: 200 }, timeoutMs: 90_000 })));
    const ids = receipts.map((r) => r.taskId);
    await side.log.waitForAll(() => ids.filter(ended).length >= 20, 30_000, () => 'first tasks ended');
    await brokers[0]?.kill('SIGKILL');
    await until(async () => new Set((await side.owners()).values()).size === 1 && (await side.owners()).size === PARTITIONS, 'the survivor holding every partition');
    await expectEachEndedOnce(ids);
  });

  if (brokerName === 'custom') {
    it('keep a log without gaps, and go on when PostgreSQL drops every broker connection', { timeout: 120_000 }, async () => {
      const receipts = await side.submitMany(Array.from({ length: 60 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed', durationMs: 200 }, timeoutMs: 60_000 })));
      const ids = receipts.map((r) => r.taskId);
      await side.log.waitForAll(() => ids.filter(ended).length >= 10, 30_000, () => 'first tasks ended');
      await pool.query(`select pg_terminate_backend(pid) from pg_stat_activity where application_name like 'stackl-custom-broker %' and datname = current_database()`);
      await expectEachEndedOnce(ids);
      await until(async () => (await side.owners()).size === PARTITIONS, 'every partition held again');
      const rows = await (side.log as TableEventLog).rows();
      for (let partition = 0; partition < PARTITIONS; partition++) {
        const offsets = rows.filter((r) => r.partition === partition).map((r) => r.offset);
        expect(offsets).toEqual(offsets.map((_, i) => BigInt(i)));
      }
    });

    it('take their partitions back once PostgreSQL answers again after refusing their reconnects', { timeout: 120_000 }, async () => {
      // The broker of this test reaches PostgreSQL through a proxy that can refuse it.
      const target = new URL(testDatabaseUrl());
      const proxy = new TcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
      await proxy.start();
      try {
        await Promise.all(brokers.splice(0).map((b) => b.kill('SIGTERM')));
        const proxied = new URL(testDatabaseUrl());
        proxied.hostname = '127.0.0.1';
        proxied.port = String(proxy.port);
        const behindProxy = new RoleProcess('broker', { ...env, DATABASE_URL: proxied.toString() }, /ready/);
        await behindProxy.start();
        brokers.push(behindProxy);
        await until(async () => (await side.owners()).size === PARTITIONS, 'the broker behind the proxy holding every partition');
        // Every connection cut, and new ones refused for longer than its next claim round (1 s) takes to try again.
        proxy.refuse(4_000);
        expect(proxy.dropAll()).toBeGreaterThan(0);
        await until(async () => (await side.owners()).size === 0, 'the partitions freed with their connections', 10_000);
        await new Promise((resolve) => setTimeout(resolve, 4_500));
        // What this test is about: the broker tried to reconnect while nothing listened, and failed.
        expect(behindProxy.output.join('')).toContain('reconnecting to PostgreSQL failed');
        await until(async () => (await side.owners()).size === PARTITIONS, 'every partition held again after PostgreSQL answers', 30_000);
        const receipts = await side.submitMany(Array.from({ length: 30 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, timeoutMs: 60_000 })));
        await expectEachEndedOnce(receipts.map((r) => r.taskId));
      } finally {
        await Promise.all(brokers.splice(0).map((b) => b.kill('SIGTERM')));
        await proxy.close();
      }
    });

    it("live on when the connection of orders waiting for RabbitMQ's confirm dies", { timeout: 120_000 }, async () => {
      // The broker sends its orders to RabbitMQ through a proxy that can hold every byte.
      const rabbit = new URL(rabbitUrl());
      const proxy = new TcpProxy({ host: rabbit.hostname, port: Number(rabbit.port || 5672) });
      await proxy.start();
      const proxied = new URL(rabbitUrl());
      proxied.hostname = '127.0.0.1';
      proxied.port = String(proxy.port);
      try {
        await Promise.all(brokers.splice(0).map((b) => b.kill('SIGTERM')));
        const broker = new RoleProcess('broker', { ...env, RABBITMQ_URL: proxied.toString() }, /ready/);
        await broker.start();
        brokers.push(broker);
        await until(async () => (await side.owners()).size === PARTITIONS, 'the broker holding every partition');
        // RabbitMQ goes silent: these tasks' orders wait for its confirm, their outbox rows deleted in a transaction still open.
        proxy.stall(8_000);
        const receipts = await side.submitMany(Array.from({ length: 10 }, () => ({ kind: 'probe', action: 'run', payload: { outcome: 'succeed' }, timeoutMs: 60_000 })));
        const waiting = `select pid from pg_stat_activity where application_name = 'stackl-outbox-relay' and state = 'idle in transaction' and datname = current_database()`;
        await until(async () => (await pool.query(waiting)).rows.length > 0, 'orders waiting for the confirm in an open transaction', 7_000);
        // That transaction's connection dies under it.
        await pool.query(`select pg_terminate_backend(pid) from (${waiting}) as w`);
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const pid = broker.pid as number;
        expect(() => process.kill(pid, 0), 'the broker process is still alive').not.toThrow();
        // Once RabbitMQ answers again the orders go out (again: attempts fence a repeat) and every task ends once.
        await expectEachEndedOnce(receipts.map((r) => r.taskId));
        expect(() => process.kill(pid, 0), 'the broker process is still alive').not.toThrow();
      } finally {
        await Promise.all(brokers.splice(0).map((b) => b.kill('SIGTERM')));
        await proxy.close();
      }
    });
  }
});
