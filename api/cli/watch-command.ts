// `stackl watch <id>`: follows a task as the projection sees it, printing each event as
// it arrives (one JSON line), until the task is settled: completed, refused, or failed
// with its rollback done or given up. Exit 0 when it completed, 1 otherwise (failed,
// refused, or not settled within --timeout-ms), so a script can wait on a task.
import { setTimeout as sleep } from 'node:timers/promises';
import type { TaskBody } from '../schemas.js';
import { taskIdOf } from '../task-id.js';
import type { Command } from './command.js';
import { eventLine, settledText } from './human.js';
import { configOf, intFlag, parseFlags, processIo, runCommand, type CliIo } from './cli-io.js';
import { withReadDeps } from './read-deps.js';

const USAGE = 'stackl watch <task id> [--timeout-ms <ms>] [--interval-ms <ms>]';

/** Nothing more happens to the task by itself (an operator may still retry a failed rollback). */
export function settled(task: Pick<TaskBody, 'status' | 'rollback'>): boolean {
  return task.status === 'Completed' || task.status === 'Rejected' || (task.status === 'Failed' && (task.rollback === 'done' || task.rollback === 'failed'));
}

export function watchCommand(io: CliIo = processIo): Command {
  return {
    summary: "follow a task live: each event as it is projected, until it settles (exit 0 only when it completed)",
    run: (args) =>
      runCommand(io, 'watch', USAGE, args, async (args, output) => {
        const { values, positionals } = parseFlags(args, { 'timeout-ms': { type: 'string' }, 'interval-ms': { type: 'string' } }, { min: 1, max: 1 });
        const id = taskIdOf(positionals[0] as string);
        const timeoutMs = intFlag('timeout-ms', values['timeout-ms'], 1) ?? 600_000;
        const intervalMs = intFlag('interval-ms', values['interval-ms'], 10) ?? 250;
        return withReadDeps(configOf(io), async ({ store }) => {
          const deadline = Date.now() + timeoutMs;
          let printed = 0;
          for (;;) {
            // The task first, then its events: the projector writes both in one transaction, so
            // events read after a settled task include every event that settled it. (Read the
            // other way round, a batch committed between the two reads left the last events
            // unprinted behind a settled outcome.)
            const task = await store.get(id);
            const events = await store.events(id);
            for (const event of events.slice(printed)) output.line({ time: event.time, sequence: event.sequence, type: event.type, body: event.body }, (e, style) => eventLine(e, style));
            printed = Math.max(printed, events.length);
            if (task !== null && settled(task)) {
              output.line({ settled: task.status, rollback: task.rollback, attempts: task.attempts, output: task.output, failure: task.failure, rejection: task.rejection }, (o, style) => settledText(o, style));
              return task.status === 'Completed' ? 0 : 1;
            }
            if (Date.now() >= deadline) {
              io.err(`stackl watch: task ${id} ${task === null ? 'is not in the projection' : `is still ${task.status}${task.rollback === null ? '' : ` (rollback ${task.rollback})`}`} after ${timeoutMs} ms`);
              return 1;
            }
            await sleep(Math.min(intervalMs, Math.max(0, deadline - Date.now())));
          }
        });
      }),
  };
}
