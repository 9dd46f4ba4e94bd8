import type { Admin } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { topicOffsets, type TopicOffsets } from '../../../topics/topic-offsets.js';

const answer: TopicOffsets = [{ partition: 0, offset: '7', high: '7', low: '0' }];

/** An admin whose fetchTopicOffsets throws the given errors in turn, then answers. */
function adminFailing(errors: Error[]): { admin: Admin; calls: () => number } {
  let calls = 0;
  const admin = {
    fetchTopicOffsets: async () => {
      calls += 1;
      const error = errors.shift();
      if (error) throw error;
      return answer;
    },
  } as unknown as Admin;
  return { admin, calls: () => calls };
}

/** What kafkajs throws for a Kafka error code: its type, and whether asking again may help. */
const protocolError = (type: string, retriable: boolean, message: string) => Object.assign(new Error(message), { name: 'KafkaJSProtocolError', type, retriable });

const notLeader = () => protocolError('NOT_LEADER_FOR_PARTITION', true, 'This server is not the leader for that topic-partition');

describe('a topic offsets reading', () => {
  it('asks again after NOT_LEADER, which kafkajs itself gives up on', async () => {
    const { admin, calls } = adminFailing([notLeader(), notLeader()]);
    await expect(topicOffsets(admin, 't')).resolves.toEqual(answer);
    expect(calls()).toBe(3);
  });

  it('gives a non-retriable error back at once', async () => {
    const denied = protocolError('TOPIC_AUTHORIZATION_FAILED', false, 'Not authorized to access topics');
    const { admin, calls } = adminFailing([denied]);
    await expect(topicOffsets(admin, 't')).rejects.toBe(denied);
    expect(calls()).toBe(1);
  });

  it('gives up after eight readings that all fail', async () => {
    const { admin, calls } = adminFailing(Array.from({ length: 10 }, notLeader));
    await expect(topicOffsets(admin, 't')).rejects.toMatchObject({ type: 'NOT_LEADER_FOR_PARTITION' });
    expect(calls()).toBe(8);
  });
});
