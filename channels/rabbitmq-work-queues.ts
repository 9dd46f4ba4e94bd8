// The queues of work delivery on RabbitMQ, declared the same way by every party (worker
// and relay; a declaration that differs is refused by RabbitMQ), and the headers through
// which an order remembers the Kafka record it came from.
import type { Channel, ConsumeMessage, MessagePropertyHeaders } from 'amqplib';
import { quorumQueue, type RabbitWorkNames } from './rabbitmq-names.js';
import { orderAck } from './relay-offsets.js';

/**
 * Deliveries of one order before RabbitMQ gives up on it and dead-letters it: an order that
 * kills every worker taking it must not kill them all for ever. Its attempt's deadline
 * decides the task's fate meanwhile.
 */
export const ORDER_DELIVERY_LIMIT = 10;

export const SOURCE_HEADERS = { topic: 'stackl-source-topic', partition: 'stackl-source-partition', offset: 'stackl-source-offset' } as const;

export async function declareWorkQueues(channel: Channel, names: RabbitWorkNames): Promise<void> {
  await channel.assertQueue(names.dead, { durable: true, arguments: quorumQueue() });
  for (const queue of [names.runs, names.rollbacks]) await channel.assertQueue(queue, { durable: true, arguments: quorumQueue(names.dead, ORDER_DELIVERY_LIMIT) });
  for (const queue of [names.results, names.acks]) await channel.assertQueue(queue, { durable: true, arguments: quorumQueue(names.dead) });
}

export function sourceHeaders(topic: string, partition: number, offset: string): MessagePropertyHeaders {
  return { [SOURCE_HEADERS.topic]: topic, [SOURCE_HEADERS.partition]: partition, [SOURCE_HEADERS.offset]: offset };
}

/** Where an order came from, when its headers say so (the relay's orders do; forged ones may not). */
export function sourceOf(message: ConsumeMessage): { topic: string; partition: number; offset: string } | undefined {
  const headers = message.properties.headers ?? {};
  const topic: unknown = headers[SOURCE_HEADERS.topic];
  const partition: unknown = headers[SOURCE_HEADERS.partition];
  const offset: unknown = headers[SOURCE_HEADERS.offset];
  if (typeof topic !== 'string' || typeof partition !== 'number' || typeof offset !== 'string' || !/^\d{1,19}$/.test(offset)) return undefined;
  return { topic, partition, offset };
}

/** The acknowledgement a worker sends the relay for an order it finished. */
export function orderAckOf(message: ConsumeMessage): string | undefined {
  const source = sourceOf(message);
  return source === undefined ? undefined : orderAck(source);
}
