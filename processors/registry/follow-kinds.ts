// Wiring for roles: the registry topic made sure of, then followed.
import type { Admin, Kafka } from 'kafkajs';
import type { StacklConfig } from '../../core/config.js';
import { ensureTopics } from '../../topics/admin.js';
import { catalogueFor } from '../../topics/catalogue.js';
import { createKafka } from '../../topics/kafka.js';
import { topicNames } from '../../topics/names.js';
import { KindCatalogue } from './kind-catalogue.js';
import type { KindView } from './kind-book.js';
import { TableKinds } from './table-kinds.js';
import pg from 'pg';

/** Creates `task.kinds` when missing (a role may start before `stackl topics create`). */
export async function ensureKindsTopic(admin: Admin, config: StacklConfig): Promise<string> {
  const topic = topicNames(config.topicPrefix).kinds;
  await ensureTopics(admin, catalogueFor(config).filter((spec) => spec.name === topic));
  return topic;
}

export async function followKinds(config: StacklConfig, kafka: Kafka, admin: Admin): Promise<KindCatalogue> {
  const topic = await ensureKindsTopic(admin, config);
  const catalogue = new KindCatalogue({ kafka, admin, topic, groupPrefix: config.topicPrefix });
  await catalogue.start();
  return catalogue;
}

/** Reads the deployment's registry once (the topic, or the custom broker's table), for a one-shot tool (the CLI). */
export async function withKindsRead<T>(config: StacklConfig, use: (view: KindView) => T): Promise<T> {
  if (config.broker === 'custom') {
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
    try {
      const kinds = new TableKinds(pool, config.databaseSchema);
      await kinds.catchUp();
      return use(kinds);
    } finally {
      await pool.end();
    }
  }
  const kafka = createKafka(config, 'stackl-cli-kinds');
  const admin = kafka.admin();
  await admin.connect();
  try {
    const catalogue = await followKinds(config, kafka, admin);
    try {
      return use(catalogue);
    } finally {
      await catalogue.stop();
    }
  } finally {
    await admin.disconnect();
  }
}
