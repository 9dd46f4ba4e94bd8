// The producer the API's submissions go through, on the real broker behind a proxy that
// stalls (connections open, no byte moving): a send that outlives its deadline is given
// up with a retriable error instead of waiting out kafkajs' minutes of retries, and the
// next send, on a fresh producer, goes through once Kafka answers again.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { createKafka } from '../../topics/kafka.js';
import { RenewingProducer } from '../../topics/renewing-producer.js';
import { createTopic, testKafka } from '../support/kafka.js';
import { token } from '../support/names.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const topic = `renewing-producer-${token()}`;
const proxy = new TcpProxy({ host: '127.0.0.1', port: Number(loadConfig().kafkaBrokers[0]?.split(':')[1]) });

beforeAll(async () => {
  await createTopic(testKafka(), topic, 1);
  await proxy.start();
});
afterAll(async () => {
  await proxy.close();
});

describe('a producer with a send deadline', () => {
  it('gives up a send Kafka does not answer in time, then sends on a fresh producer', { timeout: 60_000 }, async () => {
    // Bootstrapping through the stalled proxy: the producer's first request hangs.
    const kafka = createKafka({ brokers: [proxy.address], clientId: `renew-${token()}`, quiet: true });
    const producer = new RenewingProducer(kafka, undefined, { sendDeadlineMs: 1_500 });
    const stallMs = 5_000;
    proxy.stall(stallMs);
    const began = Date.now();
    await expect(producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'stalled', partition: 0 }] })).rejects.toMatchObject({ code: 'KAFKA_SEND_STALLED', retriable: true });
    const gaveUpAfter = Date.now() - began;
    expect(gaveUpAfter).toBeGreaterThanOrEqual(1_400);
    expect(gaveUpAfter).toBeLessThan(stallMs);

    while (Date.now() < proxy.stalledUntil + 200) await new Promise((resolve) => setTimeout(resolve, 100));
    const [answer] = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'after', partition: 0 }] });
    expect(answer).toMatchObject({ topicName: topic, partition: 0, errorCode: 0 });
    await producer.disconnect();
  });

  it('leaves a send that answers in time alone', async () => {
    const producer = new RenewingProducer(testKafka(), undefined, { sendDeadlineMs: 10_000 });
    const [answer] = await producer.send({ topic, acks: -1, messages: [{ key: 'k', value: 'quick', partition: 0 }] });
    expect(answer).toMatchObject({ topicName: topic, partition: 0, errorCode: 0 });
    await producer.disconnect();
  });
});
