// `stackl status <id>`: one task from PostgreSQL, optionally after waiting until the
// projection reached a position (read-your-writes, as GET /tasks/:id?minPosition=).
// Without an id it reports the local stack, like the stack's own `status`, so one
// name serves both.
import { brokerNameFrom, channelNameFrom } from '../../core/config.js';
import { stackStatus } from '../../deploy/local/stack.js';
import { partitionForKey } from '../../topics/partitioner.js';
import { parsePosition } from '../position.js';
import { waitForPosition } from '../read-your-writes.js';
import { taskIdOf } from '../task-id.js';
import type { Command } from './command.js';
import { stackStatusText, taskText } from './human.js';
import { configOf, intFlag, parseFlags, processIo, runCommand, UsageError, type CliIo } from './cli-io.js';
import { withReadDeps } from './read-deps.js';

const USAGE = 'stackl status [<task id> [--position <partition>:<offset>] [--wait-ms <ms>]]';

export function statusCommand(io: CliIo = processIo): Command {
  return {
    summary: 'with a task id: the task as projected in PostgreSQL (--position waits for your write); without: which services answer',
    run: (args) =>
      runCommand(io, 'status', USAGE, args, async (args, output) => {
        const { values, positionals } = parseFlags(args, { position: { type: 'string' }, 'wait-ms': { type: 'string' } }, { min: 0, max: 1 });
        const config = configOf(io);
        const [raw] = positionals;
        if (raw === undefined) {
          if (values.position !== undefined || values['wait-ms'] !== undefined) throw new UsageError('--position and --wait-ms need a task id');
          const report = await stackStatus(config);
          output.result(report, (r, style) => stackStatusText(r, style));
          return (report.kafka.answering || brokerNameFrom(process.env) === 'custom') && report.postgres.answering && report.redis.answering && (channelNameFrom(process.env) !== 'rabbitmq' || report.rabbitmq.answering) ? 0 : 1;
        }
        const id = taskIdOf(raw);
        const waitMs = intFlag('wait-ms', values['wait-ms']) ?? 10_000;
        const position = values.position === undefined ? undefined : parsePosition(values.position);
        if (position !== undefined && position.partition !== partitionForKey(id, config.partitions)) {
          throw new UsageError(`position ${values.position} is not on the partition of task ${id}`);
        }
        return withReadDeps(config, async ({ store, progress }) => {
          if (position !== undefined) {
            // A wait of up to --wait-ms: say what it waits for, to a person watching.
            if (output.human) io.err(`waiting up to ${waitMs} ms for the projection to reach ${values.position}…`);
            await waitForPosition(await progress(), position, waitMs);
          }
          const task = await store.get(id);
          if (task === null) {
            io.err(`stackl status: no task ${id}${position === undefined ? ' (pass --position to wait for a submit that may not be projected yet)' : ''}`);
            return 1;
          }
          output.result(task, (t, style) => taskText(t, style));
          return 0;
        });
      }),
  };
}
