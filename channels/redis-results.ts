// Workers' results on the `redis` channel, as both relays (the Kafka broker's and the
// custom broker's) take them: moved atomically into a processing list in batches, handed to
// the relay's writer, and removed from Redis only once the writer has them kept; what a
// relay that died had taken goes back to the queue when the next one starts.
import type { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from '../core/log.js';
import type { RedisChannelKeys } from './redis-keys.js';

const MAX_BATCH = 500;

export interface ResultMoving {
  /** Holds its connection while it waits (BLMOVE); disconnecting it ends the wait. */
  blocking: Redis;
  commands: Redis;
  keys: RedisChannelKeys;
  running: () => boolean;
  log: Logger;
  /** Keeps the results (raw JSON) where the broker reads them; resolves once they are kept. */
  write: (batch: string[]) => Promise<void>;
}

/** Results a previous relay took but may not have written: back to the queue. */
export async function recoverResults(commands: Redis, keys: RedisChannelKeys): Promise<void> {
  while ((await commands.lmove(keys.resultsProcessing, keys.results, 'LEFT', 'RIGHT')) !== null);
}

/** Moves results in batches until `running()` turns false. */
export async function moveResults(moving: ResultMoving): Promise<void> {
  const { blocking, commands, keys } = moving;
  while (moving.running()) {
    try {
      const first = await blocking.blmove(keys.results, keys.resultsProcessing, 'RIGHT', 'LEFT', 1);
      if (first === null) continue;
      const batch = [first];
      while (batch.length < MAX_BATCH) {
        const next = await commands.lmove(keys.results, keys.resultsProcessing, 'RIGHT', 'LEFT');
        if (next === null) break;
        batch.push(next);
      }
      await moving.write(batch);
      const pipeline = commands.multi();
      for (const raw of batch) pipeline.lrem(keys.resultsProcessing, 1, raw);
      await pipeline.exec();
    } catch (error) {
      if (!moving.running()) return;
      moving.log.warn('moving results failed; retrying', { error: (error as Error).message });
      await sleep(500);
    }
  }
}
