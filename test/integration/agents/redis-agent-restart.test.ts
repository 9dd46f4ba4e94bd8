// An agent on the redis channel that dies with jobs taken but not acknowledged: its
// successor (same name) gets those jobs again, and then every new job too.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AgentJob, AgentReply } from '../../../channels/agent-messages.js';
import { RedisAgentJobClient, RedisAgentJobServer } from '../../../channels/redis-agent-channel.js';
import { uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';

const redis = new PrivateRedis();
const prefix = uniquePrefix('agent-restart');

beforeAll(async () => {
  await redis.start();
});
afterAll(async () => {
  await redis.stop();
});

const job = (target: string) => ({ taskId: randomUUID(), attempt: 1, compensation: false, op: 'apply' as const, target, resource: 's/web', spec: { v: 1 }, deadlineAt: Date.now() + 60_000 });
const answer = (agent: string) => async (j: AgentJob): Promise<AgentReply> => ({ jobId: j.jobId, taskId: j.taskId, agent, target: j.target, status: 'applied', message: null });

describe('redis agent restart', () => {
  it('redelivers what the dead agent held, then keeps taking new jobs', { timeout: 60_000 }, async () => {
    const client = new RedisAgentJobClient(redis.url, prefix, 'worker-1');
    const first = new RedisAgentJobServer(redis.url, prefix, 'east');
    const taken: string[] = [];
    // The first agent takes two jobs and never answers: it dies holding them.
    await first.serve(() => true, async (j) => {
      taken.push(j.target);
      return new Promise<AgentReply>(() => {});
    }, 4);
    const held = [client.request(job('t-1'), AbortSignal.timeout(30_000)), client.request(job('t-2'), AbortSignal.timeout(30_000))];
    for (const until = Date.now() + 10_000; taken.length < 2 && Date.now() < until; ) await new Promise((resolve) => setTimeout(resolve, 50));
    expect(taken.sort()).toEqual(['t-1', 't-2']);
    void first.close();

    const second = new RedisAgentJobServer(redis.url, prefix, 'east');
    await second.serve(() => true, answer('east-again'), 4);
    const replies = await Promise.all(held);
    expect(replies.map((r) => r.agent)).toEqual(['east-again', 'east-again']);
    // New jobs after the pending ones were worked off.
    const fresh = await Promise.all(['t-3', 't-4', 't-5'].map((t) => client.request(job(t), AbortSignal.timeout(20_000))));
    expect(fresh.map((r) => r.status)).toEqual(['applied', 'applied', 'applied']);
    await Promise.all([second.close(), client.close()]);
  });
});
