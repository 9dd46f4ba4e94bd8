// A partition's producer closed while it connects (a rebalance takes the partition away
// during its restore) must end disconnected: a connection left open would keep a
// transactional id registered by an instance that no longer owns the partition. On the
// real broker, watching the kafkajs producer's own connect and disconnect events.
import type { Producer } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { PartitionProducer } from '../../../processors/runtime/partition-producer.js';
import { testKafka } from '../../support/kafka.js';
import { token } from '../../support/names.js';

interface Watched {
  producers: Producer[];
  events: string[];
}

/** A client whose producers report their connects and disconnects, in order. */
function watchedKafka(): { kafka: ReturnType<typeof testKafka>; watched: Watched } {
  const kafka = testKafka();
  const watched: Watched = { producers: [], events: [] };
  const make = kafka.producer.bind(kafka);
  vi.spyOn(kafka, 'producer').mockImplementation((config) => {
    const producer = make(config);
    const n = watched.producers.push(producer);
    producer.on(producer.events.CONNECT, () => watched.events.push(`connect ${n}`));
    producer.on(producer.events.DISCONNECT, () => watched.events.push(`disconnect ${n}`));
    return producer;
  });
  return { kafka, watched };
}

const settle = () => new Promise((resolve) => setTimeout(resolve, 500));

describe('a partition producer closed while it connects', () => {
  it('ends disconnected, and refuses to commit afterwards without connecting again', async () => {
    const { kafka, watched } = watchedKafka();
    const producer = new PartitionProducer(kafka, 0, `test.pp.${token()}`, `test.pp.group.${token()}`);
    const connecting = producer.connect();
    await producer.disconnect();
    await connecting.catch(() => {});
    await settle();
    // kafkajs finishes the connect it began; the producer must then close it itself.
    expect(watched.events).toContain('connect 1');
    expect(watched.events.at(-1)).toBe('disconnect 1');

    await expect(producer.commit({ records: [], offsets: [] })).rejects.toMatchObject({ code: 'PARTITION_CLOSED' });
    await settle();
    expect(watched.events.filter((e) => e.startsWith('connect'))).toEqual(['connect 1']);
    expect(watched.events.at(-1)).toBe('disconnect 1');
  });

  it('after a connect that completed, disconnects on close', async () => {
    const { kafka, watched } = watchedKafka();
    const producer = new PartitionProducer(kafka, 1, `test.pp.${token()}`, `test.pp.group.${token()}`);
    await producer.connect();
    expect(watched.events).toEqual(['connect 1']);
    await producer.disconnect();
    await settle();
    expect(watched.events).toEqual(['connect 1', 'disconnect 1']);
  });
});
