// The run's topics, consumer groups and schema, removed once a benchmark run is over
// (bench-stack.ts adds the RabbitMQ queues of a run on that channel).
import type { Kafka } from 'kafkajs';
import pg from 'pg';
import type { StacklConfig } from '../core/config.js';
import { progress } from './stats.js';

/** The run's topics, groups and schema are of no use afterwards; leaving them would fill the dev broker. */
export async function cleanUp(kafka: Kafka, config: StacklConfig, dropSchema: boolean): Promise<void> {
  const admin = kafka.admin();
  try {
    await admin.connect();
    const ours = (await admin.listTopics()).filter((t) => t.startsWith(config.topicPrefix));
    if (ours.length > 0) await admin.deleteTopics({ topics: ours });
    const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(config.topicPrefix));
    if (groups.length > 0) await admin.deleteGroups(groups);
  } catch (error) {
    progress(`could not delete the run's topics: ${(error as Error).message}`);
  } finally {
    await admin.disconnect().catch(() => {});
  }
  if (!dropSchema) return;
  const client = new pg.Client({ connectionString: config.databaseUrl });
  try {
    await client.connect();
    await client.query(`drop schema if exists ${pg.escapeIdentifier(config.databaseSchema)} cascade`);
  } catch (error) {
    progress(`could not drop schema ${config.databaseSchema}: ${(error as Error).message}`);
  } finally {
    await client.end().catch(() => {});
  }
}
