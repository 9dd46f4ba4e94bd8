// What both message channels refuse, and with which error: bad names, values that are
// not plain JSON, values over the size limit, out-of-range TTLs and waits, work after
// close, an unknown STACKL_CHANNEL. Also the topics the Kafka channel makes on demand.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import kafkajs from 'kafkajs';
import { loadConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { ChannelNameError, ChannelValueError, ChannelValueTooLargeError } from '../../../channels/message-channel-errors.js';
import { MAX_TTL_MS, MAX_VALUE_BYTES, type JsonValue, type MessageChannel } from '../../../channels/message-channel.js';
import { messageChannel } from '../../../channels/start-message-channel.js';
import { channelPubsubTopic, channelQueueTopic, channelStoreTopic } from '../../../topics/names.js';
import { testKafka } from '../../support/kafka.js';
import { token, uniquePrefix } from '../../support/names.js';
import { PrivateRedis } from '../../support/redis-server.js';
import { ChannelPool, refused, type ChannelKind } from './channel-helpers.js';

const redis = new PrivateRedis();
const prefix = uniquePrefix('message-channel-refusals');
const pool = new ChannelPool(prefix, () => redis.url);

beforeAll(() => redis.start());
afterAll(async () => {
  await pool.closeAll();
  await redis.stop();
});

const cyclic: Record<string, unknown> = { name: 'loop' };
cyclic.self = cyclic;
// eslint-disable-next-line no-sparse-arrays -- a hole is exactly what must be refused
const notJson: unknown[] = [undefined, () => 1, Symbol('s'), 10n, NaN, Infinity, new Date(0), new Map(), { deep: { bad: undefined } }, [1, , 3], cyclic];

describe.each<ChannelKind>(['kafka', 'redis', 'rabbitmq'])('%s message channel refuses', (kind) => {
  let channel: MessageChannel;
  beforeAll(() => {
    channel = pool.open(kind);
  });

  it('queue and topic names that could not be Kafka topic names', async () => {
    for (const name of ['', ' spaced', 'under_score', '.leading-dot', 'slash/ed', 'x'.repeat(101), 42]) {
      const bad = name as string;
      await refused(() => channel.push(bad, 1), 'CHANNEL_NAME_INVALID', ChannelNameError);
      await refused(() => channel.pop(bad, 10), 'CHANNEL_NAME_INVALID', ChannelNameError);
      await refused(() => channel.publish(bad, 1), 'CHANNEL_NAME_INVALID', ChannelNameError);
      await refused(() => channel.subscribe(bad, () => {}), 'CHANNEL_NAME_INVALID', ChannelNameError);
    }
  });

  it('storage keys that are empty, too long or hold control characters', async () => {
    for (const key of ['', 'line\nbreak', 'tab\there', 'k'.repeat(257)]) {
      await refused(() => channel.put(key, 1, 1_000), 'CHANNEL_NAME_INVALID', ChannelNameError);
      await refused(() => channel.get(key), 'CHANNEL_NAME_INVALID', ChannelNameError);
      await refused(() => channel.remove(key), 'CHANNEL_NAME_INVALID', ChannelNameError);
    }
  });

  it('values JSON would not bring back unchanged', async () => {
    for (const value of notJson) {
      const bad = value as JsonValue;
      await refused(() => channel.put('k', bad, 1_000), 'CHANNEL_VALUE_INVALID', ChannelValueError);
      await refused(() => channel.push('q', bad), 'CHANNEL_VALUE_INVALID', ChannelValueError);
      await refused(() => channel.publish('t', bad), 'CHANNEL_VALUE_INVALID', ChannelValueError);
    }
  });

  it('values over the size limit, and takes one just at it', async () => {
    const over = 'x'.repeat(MAX_VALUE_BYTES - 1); // two quotes make it one byte too many
    await refused(() => channel.put('k', over, 1_000), 'CHANNEL_VALUE_TOO_LARGE', ChannelValueTooLargeError);
    await refused(() => channel.push('q', [over]), 'CHANNEL_VALUE_TOO_LARGE', ChannelValueTooLargeError);
    await refused(() => channel.publish('t', { over }), 'CHANNEL_VALUE_TOO_LARGE', ChannelValueTooLargeError);
    const fits = 'x'.repeat(MAX_VALUE_BYTES - 2);
    const [key, queue] = [`fits:${token()}`, `fits-${token()}`];
    await channel.put(key, fits, 60_000);
    expect(await channel.get(key)).toBe(fits);
    await channel.push(queue, fits);
    expect(await channel.pop(queue, 20_000)).toBe(fits);
  });

  it('ttls and waits that are not whole milliseconds in range', async () => {
    for (const ttl of [0, -1, 1.5, MAX_TTL_MS + 1, '1000', NaN]) await refused(() => channel.put('k', 1, ttl as number), 'CHANNEL_ARGUMENT_INVALID');
    for (const wait of [0, -5, 2.5, 2 ** 31]) await refused(() => channel.pop('q', wait), 'CHANNEL_ARGUMENT_INVALID');
  });

  it('every operation once closed', async () => {
    const closed = pool.open(kind);
    await closed.put(`before-close:${token()}`, 1, 1_000);
    await closed.close();
    await refused(() => closed.put('k', 1, 1_000), 'CHANNEL_CLOSED');
    await refused(() => closed.get('k'), 'CHANNEL_CLOSED');
    await refused(() => closed.pop('q', 10), 'CHANNEL_CLOSED');
    await refused(() => closed.subscribe('t', () => {}), 'CHANNEL_CLOSED');
  });
});

describe('message channel configuration', () => {
  it('refuses an unknown STACKL_CHANNEL', () => {
    expect(() => messageChannel(loadConfig(), { STACKL_CHANNEL: 'rabbit' })).toThrow(ConfigError);
  });

  it('makes its Kafka topics on demand: a compacted, expiring store and one-partition queues and topics', async () => {
    const channel = pool.open('kafka');
    await channel.put(`topics:${token()}`, 1, 1_000);
    await channel.push('made-on-demand', 1);
    await channel.publish('made-on-demand', 1);
    const admin = testKafka().admin();
    await admin.connect();
    try {
      const [store, queue, pubsub] = [channelStoreTopic(prefix), channelQueueTopic(prefix, 'made-on-demand'), channelPubsubTopic(prefix, 'made-on-demand')];
      const { topics } = await admin.fetchTopicMetadata({ topics: [queue, pubsub] });
      expect(topics.map((t) => t.partitions.length)).toEqual([1, 1]);
      const { resources } = await admin.describeConfigs({ includeSynonyms: false, resources: [{ type: kafkajs.ConfigResourceTypes.TOPIC, name: store, configNames: ['cleanup.policy', 'retention.ms'] }] });
      const configs = Object.fromEntries((resources[0]?.configEntries ?? []).map((e) => [e.configName, e.configValue]));
      expect(configs).toEqual({ 'cleanup.policy': 'compact,delete', 'retention.ms': String(MAX_TTL_MS) });
    } finally {
      await admin.disconnect();
    }
  });
});
