// Anyone who may write to agent.replies can aim records at a worker's key. None of them may
// stop the worker's reply consumer (which would make it renew, or its worker wait out
// deadlines) or answer a job that is not theirs: undecodable bytes, a reply of the wrong
// shape, JSON nested 20,000 deep, a record just under Kafka's size limit, and a
// well-formed reply for a job nobody sent. A job sent afterwards still gets its answer.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { KafkaAgentJobClient, KafkaAgentJobServer } from '../../../channels/kafka-agent-channel.js';
import { createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';

describe('hostile records on the agent replies topic', () => {
  const kafka = testKafka();
  const id = token();
  const topics = { jobs: `agent.jobs.${id}`, replies: `agent.replies.${id}`, dlq: `agent.dlq.${id}` };
  const replyTo = `worker-${id}`;
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const close of closers) await close().catch(() => {});
  });

  it('are ignored: the consumer keeps running and the next job is answered', async () => {
    await createTopic(kafka, topics.jobs, 2);
    await createTopic(kafka, topics.replies, 2);
    await createTopic(kafka, topics.dlq, 1);
    const answered: string[] = [];
    const server = new KafkaAgentJobServer({ kafka, jobsTopic: topics.jobs, repliesTopic: topics.replies, dlqTopic: topics.dlq, groupId: `agent-${id}`, partitions: 2 });
    closers.push(() => server.close());
    void server.serve(() => true, async (job) => {
      answered.push(job.jobId);
      return { jobId: job.jobId, taskId: job.taskId, agent: 'test-agent', target: job.target, status: 'applied', message: 'done' };
    }, 2);
    const workerKafka = testKafka();
    const makeConsumer = vi.spyOn(workerKafka, 'consumer');
    const client = new KafkaAgentJobClient({ kafka: workerKafka, jobsTopic: topics.jobs, repliesTopic: topics.replies, replyTo, groupPrefix: `hostile-${id}-` });
    closers.push(() => client.close());
    const job = (n: number) => ({ taskId: randomUUID(), attempt: 1, compensation: false, op: 'apply' as const, target: 'node-1', resource: `stack/s${n}`, spec: null, deadlineAt: Date.now() + 60_000 });
    const signal = new AbortController().signal;
    // The first job starts the client's consumer and proves its position.
    await client.request(job(1), signal);

    const deep = `${'['.repeat(20_000)}${']'.repeat(20_000)}`;
    const hostile = [
      Buffer.from([0xff, 0x00, 0xfe, 0x7b]),
      Buffer.from(JSON.stringify({ jobId: 'not-a-uuid', extra: true })),
      Buffer.from(`{"jobId":${deep}}`),
      Buffer.from(deep),
      Buffer.from(JSON.stringify({ jobId: randomUUID(), taskId: randomUUID(), agent: 'intruder', target: 'node-1', status: 'applied', message: 'x'.repeat(900_000) })),
    ];
    const producer = kafka.producer();
    await producer.connect();
    for (const value of hostile) await producer.send({ topic: topics.replies, messages: [{ key: replyTo, value }] });
    await producer.disconnect();

    const reply = await client.request(job(2), signal);
    expect(reply).toMatchObject({ agent: 'test-agent', status: 'applied', message: 'done' });
    expect(answered).toHaveLength(2);
    // One consumer all along: nothing made it crash and renew.
    expect(makeConsumer).toHaveBeenCalledTimes(1);
  });
});
