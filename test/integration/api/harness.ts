// One API per test file on the real services: its own PostgreSQL schema (migrated),
// its own topic prefix (topics created), and build(deps) with the real Kafka client.
import type { Admin } from 'kafkajs';
import { build, type StacklApi } from '../../../api/app.js';
import { createApiDeps, type OwnedApiDeps } from '../../../api/deps-factory.js';
import type { ApiOptions } from '../../../api/options.js';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { migrate } from '../../../deploy/migrations/runner.js';
import { ensureTopics } from '../../../topics/admin.js';
import { catalogueFor } from '../../../topics/catalogue.js';
import { testKafka } from '../../support/kafka.js';
import { uniquePrefix } from '../../support/names.js';
import { dropSchema, uniqueSchema } from '../../support/postgres.js';

export interface ApiHarness {
  app: StacklApi;
  config: StacklConfig;
  owned: OwnedApiDeps;
  admin: Admin;
  close(): Promise<void>;
}

export async function startHarness(label: string, options: Partial<ApiOptions> = {}): Promise<ApiHarness> {
  const schema = uniqueSchema(`api_${label}`);
  const config = loadConfig({ ...process.env, STACKL_TOPIC_PREFIX: uniquePrefix(`api-${label}`), STACKL_PARTITIONS: '2', STACKL_DB_SCHEMA: schema });
  await migrate(config.databaseUrl, schema);
  const admin = testKafka().admin();
  await admin.connect();
  await ensureTopics(admin, catalogueFor(config));
  const owned = await createApiDeps(config, { options });
  const app = build(owned.deps);
  await app.ready();
  return {
    app,
    config,
    owned,
    admin,
    async close() {
      await app.close();
      await owned.close();
      await admin.disconnect();
      await dropSchema(schema);
    },
  };
}

/** A second app on the same dependencies, with other options (API keys, limits). */
export async function buildWith(harness: ApiHarness, options: Partial<ApiOptions>): Promise<StacklApi> {
  const app = build({ ...harness.owned.deps, options });
  await app.ready();
  return app;
}
