// `stackl audit <id>`: the task's full history as the log holds it (task.events), one
// JSON line per event: time, sequence, type, offset, body. Independent of PostgreSQL,
// so it can check the projection, or tell a story the projection lost.
import { partitionForKey } from '../../topics/partitioner.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import { taskIdOf } from '../task-id.js';
import type { Command } from './command.js';
import { eventLine } from './human.js';
import { configOf, intFlag, parseFlags, processIo, runCommand, type CliIo } from './cli-io.js';
import { readTaskHistory } from './partition-history.js';
import { useConfiguredReader } from '../../topics/schema-registration.js';

const USAGE = 'stackl audit <task id> [--timeout-ms <ms>]';

export function auditCommand(io: CliIo = processIo): Command {
  return {
    summary: "a task's full history read straight from Kafka (task.events), one JSON line per event",
    run: (args) =>
      runCommand(io, 'audit', USAGE, args, async (args, output) => {
        const { values, positionals } = parseFlags(args, { 'timeout-ms': { type: 'string' } }, { min: 1, max: 1 });
        const id = taskIdOf(positionals[0] as string);
        const config = configOf(io);
        useConfiguredReader(config);
        const kafka = createKafka(config, 'stackl-cli');
        const partition = partitionForKey(id, config.partitions);
        const history = await readTaskHistory(kafka, topicNames(config.topicPrefix).events, partition, id, intFlag('timeout-ms', values['timeout-ms'], 1) ?? 60_000);
        for (const { offset, event } of history) {
          output.line({ time: new Date(event.time).toISOString(), sequence: event.sequence, type: event.type, partition, offset, body: event.body }, (e, style) => eventLine(e, style));
        }
        if (history.length === 0) {
          io.err(`stackl audit: task.events partition ${partition} holds no event of task ${id}`);
          return 1;
        }
        return 0;
      }),
  };
}
