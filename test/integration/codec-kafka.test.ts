// The codec on the wire: records encoded by schemas/ travel through the real broker
// and decode back to what was sent; bytes that are not ours decode to a typed error.
import { describe, expect, it } from 'vitest';
import { decode, DecodeError, encode, taskEventSchema, taskRequestSchema, type TaskEventMessage, type TaskRequestMessage } from '../../schemas/index.js';
import { consumeCount, createTopic, testKafka } from '../support/kafka.js';
import { token } from '../support/names.js';
import { envelope, taskSpec } from '../unit/schemas/sample-messages.js';

const kafka = testKafka();

describe('codec over Kafka', () => {
  it('round-trips a request and an event through a topic, and flags a foreign record', async () => {
    const topic = `codec.${token()}`;
    await createTopic(kafka, topic);
    const submit: TaskRequestMessage = {
      ...envelope,
      type: 'SubmitTask',
      body: {
        kind: 'probe', action: 'run', payload: '{"outcome":"succeed"}', origin: { type: 'none', target: null },
        idempotencyKey: null, timeoutMs: 5000, attemptTimeoutMs: null, heartbeatTimeoutMs: null, maxAttempts: null,
        retryBackoff: null, rollbackMaxAttempts: null, rollbackBackoff: null,
      },
    };
    const submitted: TaskEventMessage = { ...envelope, sequence: 1, type: 'TaskSubmitted', body: { task: taskSpec, deadlineAt: envelope.time + 5000 } };
    const producer = kafka.producer();
    await producer.connect();
    await producer.send({
      topic,
      messages: [
        { key: envelope.taskId, value: encode(taskRequestSchema, submit) },
        { key: envelope.taskId, value: encode(taskEventSchema, submitted) },
        { key: envelope.taskId, value: Buffer.from('{"not":"avro"}') },
      ],
    });
    await producer.disconnect();

    const [first, second, third] = await consumeCount(kafka, topic, 3);
    expect(await decode(first?.message.value ?? Buffer.alloc(0), taskRequestSchema)).toEqual(submit);
    expect(await decode(second?.message.value ?? Buffer.alloc(0), taskEventSchema)).toEqual(submitted);
    const error = await decode(third?.message.value ?? Buffer.alloc(0)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DecodeError);
    expect((error as DecodeError).code).toBe('DECODE_UNKNOWN_FORMAT');
  });
});
