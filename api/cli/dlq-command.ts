// `stackl dlq list|show|redrive`: the dead-letter topic for operators. `list` names each
// record with where it came from and why; `show` gives one whole (headers, the value
// decoded when it is one of STACKL's records); `redrive` writes a record back to the
// partition it was read from, once its cause is fixed (a webhook receiver back up, a
// reply topic created). Only records read from STACKL's input and order topics go back:
// never the audit log (the broker is its single writer), a changelog or any other topic.
import type { IHeaders } from 'kafkajs';
import { StacklError } from '../../core/errors.js';
import { decode } from '../../schemas/index.js';
import { DLQ_HEADERS } from '../../topics/dead-letter.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import type { Command } from './command.js';
import { deadLettersText } from './human.js';
import { configOf, intFlag, parseFlags, processIo, runCommand, UsageError, type CliIo } from './cli-io.js';
import { headerText, readDeadLetters, type DeadRecord } from './dlq-read.js';
import { useConfiguredReader } from '../../topics/schema-registration.js';

const USAGE = 'stackl dlq list [--code <code>] [--limit <n>] | show <partition>:<offset> | redrive <partition>:<offset> [--dry-run]  [--timeout-ms <ms>]';
const READ_TIMEOUT_MS = 60_000;

function summary(r: DeadRecord) {
  const topic = headerText(r.headers, DLQ_HEADERS.topic);
  return {
    dlq: `${r.partition}:${r.offset}`,
    at: r.timestamp,
    key: r.key?.toString() ?? null,
    from: topic === null ? null : { topic, partition: Number(headerText(r.headers, DLQ_HEADERS.partition)), offset: headerText(r.headers, DLQ_HEADERS.offset) },
    code: headerText(r.headers, DLQ_HEADERS.code),
    message: headerText(r.headers, DLQ_HEADERS.message),
    app: headerText(r.headers, DLQ_HEADERS.app),
    target: headerText(r.headers, DLQ_HEADERS.replyTarget),
  };
}

async function valueOf(bytes: Buffer | null): Promise<unknown> {
  if (bytes === null) return null;
  try {
    return await decode(bytes);
  } catch {
    const text = bytes.toString('utf8');
    return Buffer.from(text, 'utf8').equals(bytes) ? { text } : { base64: bytes.toString('base64') };
  }
}

function parsePosition(text: string | undefined): { partition: number; offset: string } {
  const match = /^(\d{1,5}):(\d{1,19})$/.exec(text ?? '');
  if (match === null) throw new UsageError(`a dead letter is named <partition>:<offset> as \`stackl dlq list\` prints it, got "${text ?? ''}"`);
  return { partition: Number(match[1]), offset: String(BigInt(match[2] as string)) };
}

function find(records: DeadRecord[], position: { partition: number; offset: string }): DeadRecord {
  const found = records.find((r) => r.partition === position.partition && r.offset === position.offset);
  if (found === undefined) throw new StacklError('DEAD_LETTER_NOT_FOUND', `the dead-letter topic has no record at ${position.partition}:${position.offset}`, { httpStatus: 404 });
  return found;
}

export function dlqCommand(io: CliIo = processIo): Command {
  return {
    summary: 'the dead-letter topic: list records with where they came from and why, show one, redrive one to where it was read',
    run: (args) =>
      runCommand(io, 'dlq', USAGE, args, async (args, output) => {
        const [action, ...rest] = args;
        const config = configOf(io);
        useConfiguredReader(config);
        const topics = topicNames(config.topicPrefix);
        const kafka = createKafka(config, 'stackl-cli');
        const flags = { 'timeout-ms': { type: 'string' } } as const;
        switch (action) {
          case 'list': {
            const { values } = parseFlags(rest, { ...flags, code: { type: 'string' }, limit: { type: 'string' } });
            const limit = intFlag('limit', values.limit, 1) ?? 100;
            const records = (await readDeadLetters(kafka, topics.dlq, intFlag('timeout-ms', values['timeout-ms'], 1) ?? READ_TIMEOUT_MS)).map(summary);
            const matching = values.code === undefined ? records : records.filter((r) => r.code === values.code);
            // The newest `limit`, oldest first, so the last line is the latest.
            const shown = matching.sort((a, b) => a.at.localeCompare(b.at)).slice(-limit);
            if (output.human) output.result(shown, (list, style) => deadLettersText(list, style));
            else for (const record of shown) output.line(record, () => '');
            return 0;
          }
          case 'show': {
            const { values, positionals } = parseFlags(rest, flags, { min: 1, max: 1 });
            const record = find(await readDeadLetters(kafka, topics.dlq, intFlag('timeout-ms', values['timeout-ms'], 1) ?? READ_TIMEOUT_MS), parsePosition(positionals[0]));
            const headers = Object.fromEntries(Object.keys(record.headers).map((name) => [name, headerText(record.headers, name)]));
            output.result({ ...summary(record), headers, value: await valueOf(record.value) }, (r) => JSON.stringify(r, null, 2));
            return 0;
          }
          case 'redrive': {
            const { values, positionals } = parseFlags(rest, { ...flags, 'dry-run': { type: 'boolean' } }, { min: 1, max: 1 });
            const position = parsePosition(positionals[0]);
            const record = find(await readDeadLetters(kafka, topics.dlq, intFlag('timeout-ms', values['timeout-ms'], 1) ?? READ_TIMEOUT_MS), position);
            const from = summary(record).from;
            const redrivable = [topics.requests, topics.results, topics.dispatch, topics.rollbacks, topics.notifications];
            if (from === null || !redrivable.includes(from.topic)) {
              throw new StacklError('NOT_REDRIVABLE', `${position.partition}:${position.offset} was ${from === null ? 'not read from a topic (an outcome that could not be written)' : `read from ${from.topic}`}; only records read from ${redrivable.join(', ')} go back`, { httpStatus: 409 });
            }
            if (headerText(record.headers, DLQ_HEADERS.valueBytes) !== null) {
              throw new StacklError('NOT_REDRIVABLE', `${position.partition}:${position.offset} keeps only a note: its ${headerText(record.headers, DLQ_HEADERS.valueBytes)} bytes were too large to keep`, { httpStatus: 409 });
            }
            // The record as it was read, with a note of where it was redriven from instead of why it failed.
            const headers: IHeaders = Object.fromEntries(Object.entries(record.headers).filter(([name]) => !name.startsWith('stackl.dlq.')));
            headers['stackl.redriven-from'] = `${topics.dlq}:${position.partition}:${position.offset}`;
            const to = { topic: from.topic, partition: from.partition };
            if (values['dry-run'] === true) {
              output.result({ wouldRedrive: summary(record), to }, (r) => `would redrive ${r.wouldRedrive.dlq} to ${r.to.topic} partition ${r.to.partition}`);
              return 0;
            }
            const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
            await producer.connect();
            try {
              const [written] = await producer.send({ topic: to.topic, acks: -1, messages: [{ key: record.key, value: record.value, headers, partition: to.partition }] });
              output.result({ redriven: summary(record), to: { ...to, offset: written?.baseOffset ?? null } }, (r, style) => `${style.good('redriven')} ${r.redriven.dlq} to ${r.to.topic} partition ${r.to.partition} at offset ${r.to.offset ?? '?'}`);
            } finally {
              await producer.disconnect();
            }
            return 0;
          }
          default:
            throw new UsageError(action === undefined ? 'say what to do: list, show or redrive' : `unknown action "${action}": list, show or redrive`);
        }
      }),
  };
}
