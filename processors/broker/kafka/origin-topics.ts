// Which reply topics exist. Writing to a topic that does not exist would fail the
// whole transaction again and again (auto-creation is off), blocking the partition;
// the processor asks here first. Answers are cached; a miss is re-checked at most
// once per `refreshMs`.
import type { Admin } from 'kafkajs';

export interface OriginTopics {
  exists(topic: string): Promise<boolean>;
}

export function originTopicsFrom(admin: Admin, refreshMs = 10_000): OriginTopics {
  let known = new Set<string>();
  let fetchedAt = 0;
  let pending: Promise<void> | undefined;
  const refresh = async (): Promise<void> => {
    known = new Set(await admin.listTopics());
    fetchedAt = Date.now();
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
