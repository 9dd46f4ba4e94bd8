// A run on the rabbitmq channel leaves its five durable quorum queues behind (runs,
// rollbacks, results, acks, dead: channels/rabbitmq-names.ts), named after the run's
// unique prefix, so nothing would ever use them again; each costs the node a Raft group.
// Probe tasks use no agent, so no agent queue or exchange is declared by a run.
import amqp from 'amqplib';
import { rabbitWorkNames } from '../channels/rabbitmq-names.js';
import { progress } from './stats.js';

export async function deleteWorkQueues(rabbitmqUrl: string, prefix: string): Promise<void> {
  let connection: Awaited<ReturnType<typeof amqp.connect>> | undefined;
  try {
    connection = await amqp.connect(rabbitmqUrl);
    // A refused operation closes the channel; deleteQueue of a queue that is gone is not refused.
    const channel = await connection.createChannel();
    for (const queue of Object.values(rabbitWorkNames(prefix))) await channel.deleteQueue(queue);
    await channel.close();
  } catch (error) {
    progress(`could not delete the run's RabbitMQ queues (${prefix}work.*): ${(error as Error).message}`);
  } finally {
    await connection?.close().catch(() => {});
  }
}
