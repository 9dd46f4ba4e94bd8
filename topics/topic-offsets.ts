// A topic's offsets (kafkajs' admin.fetchTopicOffsets), asked again after a retriable
// answer. kafkajs refreshes its metadata when a ListOffsets answer says NOT_LEADER, but
// then gives up instead of asking again: right after a topic is created, or while a
// leader moves after a broker restart, one reading fails that the next one serves.
import type { Admin } from 'kafkajs';

export type TopicOffsets = Awaited<ReturnType<Admin['fetchTopicOffsets']>>;

const ATTEMPTS = 8;

const PAUSE_STEP_MS = 100;

export async function topicOffsets(admin: Admin, topic: string): Promise<TopicOffsets> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await admin.fetchTopicOffsets(topic);
    } catch (error) {
      if (!isRetriable(error) || attempt >= ATTEMPTS) throw error;
      await new Promise((resolve) => setTimeout(resolve, PAUSE_STEP_MS * attempt));
    }
  }
}

function isRetriable(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { retriable?: unknown }).retriable === true;
}
