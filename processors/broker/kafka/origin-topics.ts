// Which reply topics exist. Writing to a topic that does not exist would fail the
// whole transaction again and again (auto-creation is off, and Kafka answers "unknown
// topic" as if it were a transient fault), blocking the partition; the processor asks
// here first. Answers are cached; a miss is re-checked at most once per `refreshMs`.
import type { Admin } from 'kafkajs';
import { ServiceUnavailableError } from '../../../core/errors.js';

export interface OriginTopics {
  /** Rejects with a retriable error when the cluster cannot say: the record is retried, never dead-lettered for it. */
  exists(topic: string): Promise<boolean>;
}

export function originTopicsFrom(admin: Admin, refreshMs = 10_000): OriginTopics {
  let known = new Set<string>();
  let fetchedAt = 0;
  let pending: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    try {
      known = new Set(await admin.listTopics());
      fetchedAt = Date.now();
    } catch (error) {
      throw new ServiceUnavailableError('kafka', `cannot list topics to check a reply topic: ${error instanceof Error ? error.message : String(error)}`, error);
    }
  };
  return {
    async exists(topic) {
      if (known.has(topic)) return true;
      if (Date.now() - fetchedAt >= refreshMs) {
        pending ??= refresh().finally(() => (pending = undefined));
        await pending;
      }
      return known.has(topic);
    },
  };
}
