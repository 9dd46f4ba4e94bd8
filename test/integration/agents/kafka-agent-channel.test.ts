// The kafka agent channel with hundreds of jobs in flight at once, as a busy worker sends
// them: job sends and reply sends are coalesced into shared produce requests, and each
// record must still land on its key's partition (one target's jobs stay in order), and
// each reply reach the worker that waits for it.
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { KafkaAgentJobClient, KafkaAgentJobServer } from '../../../channels/kafka-agent-channel.js';
import type { AgentJob, AgentReply } from '../../../channels/agent-messages.js';
import { partitionForKey } from '../../../topics/partitioner.js';
import { createTopic, testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';

const PARTITIONS = 3;
const TARGETS = ['east', 'west', 'north', 'south', 'gpu-1', 'gpu-2'];
const JOBS_PER_TARGET = 60;

describe('the kafka agent channel under many concurrent jobs', () => {
  const kafka = testKafka();
  const id = token();
  const topics = { jobs: `agent.jobs.${id}`, replies: `agent.replies.${id}`, dlq: `agent.dlq.${id}` };
  const clients: KafkaAgentJobClient[] = [];
  let server: KafkaAgentJobServer | undefined;
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await server?.close();
  });

  it(`answers ${TARGETS.length * JOBS_PER_TARGET} jobs sent at once by two workers, each once, to its sender, each worker's jobs of a target in the order sent`, async () => {
    await createTopic(kafka, topics.jobs, PARTITIONS);
    await createTopic(kafka, topics.replies, PARTITIONS);
    await createTopic(kafka, topics.dlq, 1);
    /** Sequences applied, per "target worker". */
    const applied = new Map<string, number[]>();
    const partitionsSeen = new Map<string, Set<number>>();
    server = new KafkaAgentJobServer({ kafka, jobsTopic: topics.jobs, repliesTopic: topics.replies, dlqTopic: topics.dlq, groupId: `agent-${id}`, partitions: PARTITIONS });
    const handle = async (job: AgentJob): Promise<AgentReply> => {
      const sequence = Number(job.resource.split('/')[1]?.slice(1));
      const key = `${job.target} ${job.replyTo}`;
      applied.set(key, [...(applied.get(key) ?? []), sequence]);
      return { jobId: job.jobId, taskId: job.taskId, agent: 'test-agent', target: job.target, status: 'applied', message: `${job.replyTo}:${sequence}` };
    };
    void server.serve(() => true, handle, 8);
    const workers = ['worker-a', 'worker-b'].map((replyTo) => {
      const client = new KafkaAgentJobClient({ kafka, jobsTopic: topics.jobs, repliesTopic: topics.replies, replyTo, groupPrefix: `agent-test-${id}-` });
      clients.push(client);
      return { replyTo, client };
    });
    // Warm both clients up first: their start proves the reply position before any job.
    const signal = new AbortController().signal;
    const job = (target: string, sequence: number) => ({ taskId: randomUUID(), attempt: 1, compensation: false, op: 'apply' as const, target, resource: `stack/s${sequence}`, spec: null, deadlineAt: Date.now() + 600_000 });
    await Promise.all(workers.map(({ client }, i) => client.request(job(TARGETS[i] as string, 0), signal)));

    const sent: Promise<{ replyTo: string; reply: AgentReply }>[] = [];
    for (let sequence = 1; sequence <= JOBS_PER_TARGET; sequence++) {
      for (const [i, target] of TARGETS.entries()) {
        const worker = workers[(sequence + i) % 2] as (typeof workers)[number];
        sent.push(worker.client.request(job(target, sequence), signal).then((reply) => ({ replyTo: worker.replyTo, reply })));
      }
    }
    const replies = await Promise.all(sent);
    expect(replies).toHaveLength(TARGETS.length * JOBS_PER_TARGET);
    for (const { replyTo, reply } of replies) expect(reply.message?.startsWith(`${replyTo}:`)).toBe(true);
    for (const [i, target] of TARGETS.entries()) {
      for (const [w, { replyTo }] of workers.entries()) {
        const order = (applied.get(`${target} ${replyTo}`) ?? []).filter((s) => s > 0);
        const sentByIt = Array.from({ length: JOBS_PER_TARGET }, (_, k) => k + 1).filter((sequence) => (sequence + i) % 2 === w);
        expect(order).toEqual(sentByIt);
      }
    }

    // Every job record sits on its target's partition, as the default partitioner would put it.
    const consumer = kafka.consumer({ groupId: `agent-check-${id}` });
    await consumer.connect();
    await consumer.subscribe({ topic: topics.jobs, fromBeginning: true });
    let read = 0;
    await new Promise<void>((resolve) => {
      void consumer.run({
        eachMessage: async ({ partition, message }) => {
          const target = message.key?.toString() ?? '';
          partitionsSeen.set(target, (partitionsSeen.get(target) ?? new Set()).add(partition));
          if (++read >= TARGETS.length * JOBS_PER_TARGET + workers.length) resolve();
        },
      });
    });
    await consumer.disconnect();
    for (const [target, partitions] of partitionsSeen) expect([...partitions]).toEqual([partitionForKey(target, PARTITIONS)]);
  });
});
