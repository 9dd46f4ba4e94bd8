// Reaches Kafka, PostgreSQL, Redis and RabbitMQ at the addresses the environment names
// (defaults: 127.0.0.1). When they do not answer on this machine it brings the local
// stack up with deploy/local, exactly as `stackl up` would. When that is impossible
// the run fails here, once, with a message naming what is missing: no test skips.
import { loadConfig } from '../../core/config.js';
import { stackStatus, stackUp } from '../../deploy/local/stack.js';
import { ensureDatabase } from '../../deploy/local/postgres.js';

export default async function setup(): Promise<void> {
  const config = loadConfig();
  const before = await stackStatus(config);
  const down = (['kafka', 'postgres', 'redis', 'rabbitmq'] as const).filter((s) => !before[s].answering);
  if (down.length > 0) {
    process.stderr.write(`test setup: ${down.join(', ')} not answering; bringing up the local stack (deploy/local)\n`);
    try {
      await stackUp(config, (m) => process.stderr.write(`test setup: ${m}\n`));
    } catch (error) {
      throw new Error(
        `integration tests need Kafka (${config.kafkaBrokers.join(',')}), PostgreSQL, Redis and RabbitMQ; ` +
          `${down.join(', ')} did not answer and the local stack could not start them: ${(error as Error).message}`,
        { cause: error },
      );
    }
  }
  // The local stack starts RabbitMQ only when it is installed: say so here rather than in every test.
  if (!(await stackStatus(config)).rabbitmq.answering) {
    throw new Error(`integration tests need RabbitMQ at ${new URL(config.rabbitmqUrl).host}; it does not answer and could not be started (apt-get install rabbitmq-server)`);
  }
  await ensureDatabase(config.databaseUrl);
}
