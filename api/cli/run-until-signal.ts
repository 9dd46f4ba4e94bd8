// Roles run until SIGINT or SIGTERM, then stop in order (finish the transaction in
// flight, release partitions) so the group rebalances at once instead of waiting for
// the session timeout. A second signal exits immediately.
import { createLogger } from '../../core/log.js';

export interface Stoppable {
  stop(): Promise<void>;
}

export function runUntilSignal(name: string, running: Stoppable[]): Promise<number> {
  const log = createLogger({ component: 'cli', role: name });
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      log.info('stopping', { signal });
      Promise.all([...running].reverse().map((r) => r.stop()))
        .then(() => resolve(0))
        .catch((error: unknown) => {
          log.error('stop failed', { error });
          resolve(1);
        });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}
