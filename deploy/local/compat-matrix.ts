// `npm run compat`: runs the Kafka compatibility smoke test
// (test/integration/kafka-compat.test.ts) against each Kafka release we evaluate,
// each on a broker of its own (own ports, own data folder), and prints one JSON
// line per release plus a summary. The README's compatibility table comes from it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfig } from '../../core/config.js';
import { stackDown, stackUp } from './stack.js';

const versions = (process.env.STACKL_COMPAT_VERSIONS ?? '3.9.2,4.1.2').split(',');
const port = Number(process.env.STACKL_COMPAT_PORT ?? 29092);

interface Outcome {
  version: string;
  passed: number;
  failed: number;
  startMs: number;
  tests: { name: string; status: string; failure?: string }[];
}

async function runOne(version: string): Promise<Outcome> {
  const home = mkdtempSync(join(tmpdir(), `stackl-compat-${version}-`));
  const env = { ...process.env, STACKL_HOME: home, STACKL_KAFKA_VERSION: version, KAFKA_BROKERS: `127.0.0.1:${port}` };
  const config = loadConfig(env);
  try {
    const began = Date.now();
    await stackUp(config, (m) => process.stderr.write(`compat ${version}: ${m}\n`));
    const startMs = Date.now() - began;
    const reportFile = join(home, 'compat-results.json');
    const run = spawnSync(
      'npx',
      ['vitest', 'run', '--project', 'integration', 'test/integration/kafka-compat.test.ts', '--reporter=json', `--outputFile.json=${reportFile}`],
      { env, stdio: ['ignore', 'ignore', 'inherit'] },
    );
    if (!existsSync(reportFile)) throw new Error(`vitest wrote no report for Kafka ${version} (exit ${run.status})`);
    const report = JSON.parse(readFileSync(reportFile, 'utf8')) as {
      testResults: { assertionResults: { title: string; status: string; failureMessages?: string[] }[] }[];
    };
    const tests = report.testResults.flatMap((f) =>
      f.assertionResults.map((a) => ({
        name: a.title,
        status: a.status,
        // Why a test failed, in the line CI prints: without it a failure here cannot be told from a flake.
        ...(a.failureMessages?.length ? { failure: a.failureMessages.join('\n').slice(0, 2000) } : {}),
      })),
    );
    return { version, startMs, tests, passed: tests.filter((t) => t.status === 'passed').length, failed: tests.filter((t) => t.status !== 'passed').length };
  } finally {
    await stackDown(config);
    rmSync(home, { recursive: true, force: true });
  }
}

const outcomes: Outcome[] = [];
for (const version of versions) {
  const outcome = await runOne(version);
  outcomes.push(outcome);
  process.stdout.write(`${JSON.stringify(outcome)}\n`);
}
const newestPassing = outcomes.filter((o) => o.failed === 0 && o.passed > 0).map((o) => o.version).pop();
process.stdout.write(`${JSON.stringify({ summary: outcomes.map((o) => ({ version: o.version, passed: o.passed, failed: o.failed })), newestPassing })}\n`);
process.exitCode = outcomes.every((o) => o.failed === 0 && o.passed > 0) ? 0 : 1;
