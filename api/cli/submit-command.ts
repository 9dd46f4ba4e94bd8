// `stackl submit`: one task onto task.requests, checked exactly as POST /tasks checks it.
import { z } from 'zod';
import { channelNameFrom } from '../../core/config.js';
import { KafkaBrokerClient } from '../../processors/broker/kafka-broker-client.js';
import { InboxClient } from '../../processors/broker/custom/inbox-client.js';
import type { TaskCommands } from '../../processors/broker/task-broker.js';
import { createKindRegistry, lifecycleLimitsOf } from '../../processors/lifecycle/index.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import { formatPosition } from '../position.js';
import { submitBodySchema } from '../schemas.js';
import { checkSubmission, toSubmitRequest } from '../submission-check.js';
import { withKindsRead } from '../../processors/registry/follow-kinds.js';
import type { Command } from './command.js';
import { configOf, intFlag, parseFlags, processIo, runCommand, UsageError, type CliIo } from './cli-io.js';

const USAGE =
  'stackl submit --kind <kind> --action <action> [--payload <json>] [--timeout-ms <ms>] [--attempt-timeout-ms <ms>] ' +
  '[--max-attempts <n>] [--idempotency-key <key>] [--origin-topic <topic> | --origin-webhook <url>]';

export function submitCommand(io: CliIo = processIo): Command {
  return {
    summary: 'submit a task (prints its id and the position of the submit in task.requests)',
    run: (args) =>
      runCommand(io, 'submit', USAGE, args, async (args, output) => {
        const { values } = parseFlags(args, {
          kind: { type: 'string' },
          action: { type: 'string' },
          payload: { type: 'string', default: '{}' },
          'timeout-ms': { type: 'string' },
          'attempt-timeout-ms': { type: 'string' },
          'max-attempts': { type: 'string' },
          'idempotency-key': { type: 'string' },
          'origin-topic': { type: 'string' },
          'origin-webhook': { type: 'string' },
        });
        if (values.kind === undefined || values.action === undefined) throw new UsageError('--kind and --action are required');
        if (values['origin-topic'] !== undefined && values['origin-webhook'] !== undefined) {
          throw new UsageError('give --origin-topic or --origin-webhook, not both');
        }
        let payload: unknown;
        try {
          payload = JSON.parse(values.payload);
        } catch {
          throw new UsageError('--payload is not valid JSON');
        }
        const topic = values['origin-topic'];
        const webhook = values['origin-webhook'];
        const origin = topic !== undefined ? { type: 'topic', target: topic } : webhook !== undefined ? { type: 'webhook', target: webhook } : undefined;
        const candidate = {
          kind: values.kind,
          action: values.action,
          payload,
          timeoutMs: intFlag('timeout-ms', values['timeout-ms'], 1),
          attemptTimeoutMs: intFlag('attempt-timeout-ms', values['attempt-timeout-ms'], 1),
          maxAttempts: intFlag('max-attempts', values['max-attempts'], 1),
          idempotencyKey: values['idempotency-key'],
          origin,
        };
        const parsed = submitBodySchema.safeParse(Object.fromEntries(Object.entries(candidate).filter(([, v]) => v !== undefined)));
        if (!parsed.success) throw new UsageError(z.prettifyError(parsed.error).replace(/\n/g, ' '));
        const config = configOf(io);
        // A kind of a user's own is checked against the registry, read only when needed.
        const builtIn = createKindRegistry();
        const kinds = builtIn.has(parsed.data.kind) ? builtIn : await withKindsRead(config, (registry) => new Map(registry.kinds));
        checkSubmission({ kinds, limits: lifecycleLimitsOf(config), broker: config.broker, channel: channelNameFrom(io.env) }, parsed.data);

        const client: TaskCommands =
          config.broker === 'custom'
            ? new InboxClient({ databaseUrl: config.databaseUrl, schema: config.databaseSchema, partitions: config.partitions })
            : new KafkaBrokerClient(createKafka(config, 'stackl-cli'), topicNames(config.topicPrefix).requests, config.partitions);
        try {
          const receipt = await client.submit(toSubmitRequest(parsed.data));
          output.result({ id: receipt.taskId, position: formatPosition(receipt.position) }, (r, style) => `submitted ${style.bold(r.id)} at ${r.position}\nfollow it: stackl watch ${r.id}`);
          return 0;
        } finally {
          await client.close();
        }
      }),
  };
}
