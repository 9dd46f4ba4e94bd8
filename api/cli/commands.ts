// The command table of the `stackl` CLI. Each command is small and delegates to
// the module that owns the work (deploy/local for the stack, topics/, migrations).
import { loadConfig, type StacklConfig } from '../../core/config.js';
import { migrate } from '../../deploy/migrations/runner.js';
import { lifecycleDefaultsFromEnv, startLifecycleApp } from '../../processors/broker/kafka/lifecycle-app.js';
import { startWorker } from '../../workers/start-worker.js';
import { runUntilSignal } from './run-until-signal.js';
import { stackDown, stackStatus, stackUp } from '../../deploy/local/stack.js';
import { ensureTopics } from '../../topics/admin.js';
import { catalogue } from '../../topics/catalogue.js';
import { createKafka } from '../../topics/kafka.js';

export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

/** A role whose processor stopped for good exits non-zero, so its supervisor restarts it. */
const exitOnFatal = (error: unknown): void => {
  process.stderr.write(`stackl: fatal: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
};

const progress = (message: string): void => {
  process.stderr.write(`stackl: ${message}\n`);
};

function print(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

async function createTopics(config: StacklConfig) {
  const admin = createKafka({ brokers: config.kafkaBrokers, clientId: 'stackl-admin' }).admin();
  await admin.connect();
  try {
    return await ensureTopics(admin, catalogue({ prefix: config.topicPrefix, partitions: config.partitions }));
  } finally {
    await admin.disconnect();
  }
}

export const commands: Record<string, Command> = {
  all: {
    summary: 'run the whole system on this machine: local stack, topics, migrations, and every role in this process',
    async run() {
      const config = loadConfig();
      const stack = await stackUp(config, progress);
      progress('stack is up; creating or verifying topics');
      const topics = await createTopics(config);
      progress(`applying migrations to schema ${config.databaseSchema}`);
      const migrations = await migrate(config.databaseUrl, config.databaseSchema);
      progress('starting the broker (lifecycle processor)');
      const broker = await startLifecycleApp(config, { defaults: lifecycleDefaultsFromEnv(), onFatal: exitOnFatal });
      progress('starting a worker');
      const worker = await startWorker(config);
      print({ ready: true, stack, topics, migrations, roles: ['broker', 'worker'] });
      progress(`ready: Kafka ${stack.kafka.address}, PostgreSQL ${stack.postgres.address}, Redis ${stack.redis.address}; logs in ${stack.logs}`);
      progress('submit tasks to the requests topic; Ctrl-C stops the roles (the local stack keeps running; `npm run stack:down` stops it)');
      return runUntilSignal('all', [broker, worker]);
    },
  },
  broker: {
    summary: 'run the kafka broker: the lifecycle stream processor (any number of instances share the partitions)',
    async run() {
      const config = loadConfig();
      const broker = await startLifecycleApp(config, { defaults: lifecycleDefaultsFromEnv(), onFatal: exitOnFatal });
      progress(`broker ready; owns partitions ${broker.app.stats().ownedPartitions.join(',')}`);
      return runUntilSignal('broker', [broker]);
    },
  },
  up: {
    summary: 'provision and start the local stack (Kafka, PostgreSQL, Redis); idempotent',
    async run() {
      print(await stackUp(loadConfig(), progress));
      return 0;
    },
  },
  down: {
    summary: 'stop what `up` started, and nothing else',
    async run() {
      print({ stopped: await stackDown(loadConfig(), progress) });
      return 0;
    },
  },
  status: {
    summary: 'show whether Kafka, PostgreSQL and Redis answer, and which of them `up` started',
    async run() {
      const report = await stackStatus(loadConfig());
      print(report);
      return report.kafka.answering && report.postgres.answering && report.redis.answering ? 0 : 1;
    },
  },
  worker: {
    summary: 'run a worker on the channel named by STACKL_CHANNEL (kafka); run any number',
    async run() {
      const worker = await startWorker(loadConfig());
      progress(`worker ready (${worker.workerId})`);
      return runUntilSignal('worker', [worker]);
    },
  },
  topics: {
    summary: 'create the missing topics of the catalogue and verify the existing ones',
    async run() {
      print(await createTopics(loadConfig()));
      return 0;
    },
  },
  migrate: {
    summary: 'apply pending database migrations (safe to run from several processes at once)',
    async run() {
      const config = loadConfig();
      print(await migrate(config.databaseUrl, config.databaseSchema));
      return 0;
    },
  },
};
