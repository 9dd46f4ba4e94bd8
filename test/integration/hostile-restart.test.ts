// Issue 12's "done when": after every hostile submission an attacker with a submit key (or
// write access to task.requests) can make, each role killed with kill -9 starts again and
// serves, and an ordinary task completes. The roles run as the real CLI, each a process.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { eventId, uuidV7 } from '../../processors/broker/ids.js';
import { encode, taskResultSchema, type SubmitTask } from '../../schemas/index.js';
import { changelogTopic, LIFECYCLE_APP, LIFECYCLE_TABLE, topicNames } from '../../topics/names.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { testKafka } from '../support/kafka.js';
import { uniquePrefix } from '../support/names.js';
import { dropSchema, uniqueSchema } from '../support/postgres.js';
import { freePort } from '../support/ports.js';
import { rawSubmit } from '../support/raw-requests.js';
import { RoleProcess } from '../support/role-process.js';

const schema = uniqueSchema('hostile_restart');
let env: Record<string, string>;
let api: string;
const roles = new Map<string, RoleProcess>();
const config = () => loadConfig({ ...process.env, ...env });

async function startRoles(): Promise<void> {
  const ready: Record<string, RegExp> = { broker: /broker ready/, projector: /projector ready/, worker: /worker ready/, api: /api listening/ };
  for (const [role, pattern] of Object.entries(ready)) {
    const process = new RoleProcess(role, env, pattern);
    roles.set(role, process);
    await process.start();
  }
}

async function killRoles(): Promise<void> {
  await Promise.all([...roles.values()].map((r) => r.kill('SIGKILL')));
  roles.clear();
}

beforeAll(async () => {
  const port = await freePort();
  env = { STACKL_TOPIC_PREFIX: uniquePrefix('hostile-restart'), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema, STACKL_API_PORT: String(port), STACKL_BROKER_SESSION_TIMEOUT_MS: '6000' };
  api = `http://127.0.0.1:${port}`;
  await startRoles();
}, 240_000);
afterAll(async () => {
  await killRoles();
  await dropSchema(schema);
});

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${api}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const read = async (id: string, position: string) => (await fetch(`${api}/tasks/${id}?minPosition=${position}&waitMs=20000`)).json() as Promise<Record<string, unknown>>;

/** Written straight to Kafka, as a producer bypassing the API would; answers its position. */
async function produceRaw(topic: 'requests' | 'results', taskId: string, value: Buffer): Promise<string> {
  const c = config();
  const producer = testKafka().producer({ idempotent: true });
  await producer.connect();
  try {
    const partition = partitionForKey(taskId, c.partitions);
    const [sent] = await producer.send({ topic: topicNames(c.topicPrefix)[topic], acks: -1, messages: [{ key: taskId, value, partition }] });
    return `${partition}:${sent?.baseOffset ?? '0'}`;
  } finally {
    await producer.disconnect();
  }
}

describe('after hostile submissions', () => {
  it('every role restarts after kill -9, serves, and an ordinary task completes', { timeout: 300_000 }, async () => {
    const c = config();
    const topics = topicNames(c.topicPrefix);
    const internal = ['__consumer_offsets', '__transaction_state', topics.requests, topics.events, changelogTopic(c.topicPrefix, LIFECYCLE_APP, LIFECYCLE_TABLE)];
    const probe = { kind: 'probe', action: 'run', payload: { outcome: 'succeed' } };

    // Through the API: refused before Kafka sees them.
    for (const target of internal) expect((await post('/tasks', { ...probe, origin: { type: 'topic', target } })).status).toBe(422);
    expect((await post('/tasks', { kind: 'document', action: 'create', payload: { documents: [{ key: 'a/b/c', body: { pad: 'x'.repeat(c.maxPayloadBytes) } }] } })).status).toBe(413);
    expect((await post('/tasks', `{"kind":"document","action":"create","payload":{"documents":[{"key":"a/b/c","body":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}}`)).status).toBe(400);

    // Straight to Kafka: every one ends as a rejection, read back through the projection.
    const hostile: Partial<SubmitTask>[] = [
      ...internal.map((target) => ({ origin: { type: 'topic' as const, target } })),
      { payload: `{"outcome":"succeed","pad":"${'\\"'.repeat(300_000)}"}` },
      { kind: 'document', action: 'create', payload: `{"documents":[{"key":"a/b/c","body":{"a":${'['.repeat(20_000)}${']'.repeat(20_000)}}}]}` },
      { kind: 'k'.repeat(400_000) },
    ];
    const sent = await Promise.all(
      hostile.map(async (body) => {
        const id = uuidV7();
        return { id, position: await produceRaw('requests', id, rawSubmit(id, body)) };
      }),
    );
    const stranger = uuidV7();
    await produceRaw('results', stranger, encode(taskResultSchema, { eventId: eventId(), taskId: stranger, sequence: 0, time: Date.now(), causationId: null, correlationId: null, type: 'AttemptSucceeded', body: { attempt: 1, workerId: 'w', output: JSON.stringify('o'.repeat(c.maxOutputBytes * 2)) } }));
    await produceRaw('requests', stranger, Buffer.from([0xc3, 0x01, 0xff, 0xff]));
    for (const { id, position } of sent) expect((await read(id, position)).status, id).toBe('Rejected');

    // Every role dies at once and comes back.
    await killRoles();
    await startRoles();
    const ordinary = await post('/tasks', probe);
    expect(ordinary.status).toBe(202);
    const task = await read(String(ordinary.body.id), String(ordinary.body.position));
    const until = Date.now() + 60_000;
    let status = task.status;
    while (status !== 'Completed' && Date.now() < until) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      status = (await read(String(ordinary.body.id), String(ordinary.body.position))).status;
    }
    expect(status).toBe('Completed');
  });
});
