// Roles run until SIGINT or SIGTERM, then stop step by step, each step within its
// deadline (finish the work and the transaction in flight, release partitions, so the
// groups rebalance at once instead of waiting for session timeouts). A step that
// overruns is logged and left behind; when the last step is done the process exits,
// even if something still holds the event loop. A second signal exits immediately.
import { createLogger } from '../../core/log.js';

export interface Stoppable {
  stop(): Promise<void>;
}

/** Roles that stop together; the next step starts once they stopped or the deadline passed. */
export interface StopStep {
  name: string;
  roles: Stoppable[];
  deadlineMs: number;
}

/** Long enough to finish a transaction and leave a group on a loaded machine. */
export const ROLE_STOP_DEADLINE_MS = 30_000;

/** A bare role is a step of its own, named after the command, with the usual deadline. */
export function runUntilSignal(name: string, stepsOrRoles: (StopStep | Stoppable)[]): Promise<number> {
  const log = createLogger({ component: 'cli', role: name });
  const steps = stepsOrRoles.map((s) => ('roles' in s ? s : { name, roles: [s], deadlineMs: ROLE_STOP_DEADLINE_MS }));
  return new Promise((resolve) => {
    let stopping = false;
    const stop = (signal: string) => {
      if (stopping) process.exit(130);
      stopping = true;
      log.info('stopping', { signal, order: steps.map((s) => s.name) });
      void stopInOrder(steps, log).then((code) => {
        resolve(code);
        // Whatever still holds the event loop (a socket kafkajs keeps) must not keep a
        // stopped role alive; unref'd, this waits for nothing when the loop is empty.
        setTimeout(() => process.exit(code), 1_000).unref();
      });
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });
}

/** 0 when every step stopped cleanly within its deadline, 1 otherwise. */
export async function stopInOrder(steps: StopStep[], log: ReturnType<typeof createLogger>): Promise<number> {
  let code = 0;
  for (const step of steps) {
    const began = Date.now();
    let timer: NodeJS.Timeout | undefined;
    const overrun = new Promise<'overrun'>((resolve) => {
      timer = setTimeout(() => resolve('overrun'), step.deadlineMs);
    });
    const stopped = Promise.all(step.roles.map((r) => r.stop())).then(
      () => 'stopped' as const,
      (error: unknown) => {
        log.error('stop failed', { step: step.name, error });
        return 'failed' as const;
      },
    );
    const outcome = await Promise.race([stopped, overrun]);
    clearTimeout(timer);
    if (outcome === 'overrun') log.error('did not stop within its deadline; going on without it', { step: step.name, deadlineMs: step.deadlineMs });
    else log.info('stopped', { step: step.name, ms: Date.now() - began });
    if (outcome !== 'stopped') code = 1;
  }
  return code;
}
