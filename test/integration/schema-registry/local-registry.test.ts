// Apicurio Registry as the local stack's optional schema registry (`stackl up
// --with-registry`), on free ports in temporary STACKL_HOMEs: a registry of the test's own
// stores Avro schemas and stops; `stackUp(..., { withRegistry: true })` starts one, reports
// it, is idempotent, and `stackDown` stops it and nothing else. Kafka, PostgreSQL, Redis and
// RabbitMQ are the ones the global setup found answering: never ours here, never stopped.
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type StacklConfig } from '../../../core/config.js';
import { registryAnswers, runningRegistryPid, startApicurio, type RunningApicurio } from '../../../deploy/local/apicurio.js';
import { brokerAnswers } from '../../../deploy/local/kafka-broker.js';
import { isAlive } from '../../../deploy/local/processes.js';
import { stackDown, stackStatus, stackUp } from '../../../deploy/local/stack.js';
import { token } from '../../support/names.js';
import { freePort } from '../../support/ports.js';
import { testDatabaseUrl } from '../../support/postgres.js';

const homes: string[] = [];
const registries: RunningApicurio[] = [];
const configs: StacklConfig[] = [];

function tempHome(label: string): string {
  const home = mkdtempSync(join(tmpdir(), `stackl-registry-${label}-`));
  homes.push(home);
  return home;
}

/** Databases of this file's own (and their `_registry` twins), dropped at the end. */
const databases: string[] = [];

/** A stack config in its own STACKL_HOME and database, with the machine's Kafka and the other services as they are. */
function stackConfig(label: string, registryUrl: string): StacklConfig {
  const database = `regtest_${token()}`;
  databases.push(database, `${database}_registry`);
  const config = loadConfig({ ...process.env, STACKL_HOME: tempHome(label), STACKL_SCHEMA_REGISTRY_URL: registryUrl, DATABASE_URL: `postgres://postgres@127.0.0.1:5432/${database}` });
  configs.push(config);
  return config;
}

/** A free port whose + 1000 (the management port `up` derives) is free too. */
async function freeRegistryPort(): Promise<number> {
  for (let i = 0; i < 20; i++) {
    const port = await freePort();
    if (port + 1000 <= 65_535 && (await isFree(port + 1000))) return port;
  }
  throw new Error('found no free port P with P + 1000 free');
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

const progress = (message: string): void => {
  process.stderr.write(`schema-registry test: ${message}\n`);
};

afterAll(async () => {
  for (const registry of registries) await registry.stop();
  for (const config of configs) await stackDown(config);
  for (const home of homes) rmSync(home, { recursive: true, force: true });
  const admin = new pg.Client({ connectionString: testDatabaseUrl() });
  await admin.connect();
  for (const database of databases) await admin.query(`drop database if exists ${database} with (force)`);
  await admin.end();
});

async function register(url: string, subject: string): Promise<number> {
  const response = await fetch(`${url}/subjects/${subject}/versions`, {
    method: 'POST',
    headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
    body: JSON.stringify({ schema: AVRO }),
  });
  expect(response.status).toBe(200);
  return ((await response.json()) as { id: number }).id;
}

const AVRO = JSON.stringify({ type: 'record', name: 'Probe', namespace: 'stackl.test', fields: [{ name: 'id', type: 'string' }] });

describe('Apicurio Registry in the local stack', () => {
  it('runs on the ports given, registers an Avro schema, is used (not started again) by up, and stops', { timeout: 300_000 }, async () => {
    const [port, managementPort] = [await freePort(), await freePort()];
    const registry = await startApicurio({ port, managementPort, home: tempHome('own'), cacheDir: loadConfig().cacheDir, onProgress: progress });
    registries.push(registry);
    expect(registry.started).toBe(true);
    expect(registry.url).toBe(`http://127.0.0.1:${port}/apis/ccompat/v7`);

    const empty = await fetch(`${registry.url}/subjects`);
    expect(empty.status).toBe(200);
    expect(await empty.json()).toEqual([]);

    const registered = await fetch(`${registry.url}/subjects/probe-value/versions`, {
      method: 'POST',
      headers: { 'content-type': 'application/vnd.schemaregistry.v1+json' },
      body: JSON.stringify({ schema: AVRO }),
    });
    expect(registered.status).toBe(200);
    const { id } = (await registered.json()) as { id: unknown };
    expect(typeof id === 'number' || (typeof id === 'string' && id !== '')).toBe(true);
    expect(await (await fetch(`${registry.url}/subjects`)).json()).toEqual(['probe-value']);

    // A registry answering at STACKL_SCHEMA_REGISTRY_URL is used as it is: not ours, not stopped by down.
    const theirs = stackConfig('theirs', registry.url);
    const up = await stackUp(theirs, progress, undefined, { withRegistry: true });
    expect(up.schemaRegistry).toEqual({ address: `127.0.0.1:${port}`, url: registry.url, answering: true, ours: false });
    expect(await stackDown(theirs)).toEqual([]);
    expect(await registryAnswers(registry.url)).toBe(true);

    expect(await registry.stop()).toBe('stopped');
    expect(isAlive(registry.pid)).toBe(false);
    expect(await registryAnswers(registry.url)).toBe(false);
  });

  it('stackUp with withRegistry starts one at STACKL_SCHEMA_REGISTRY_URL, reports it, and stackDown stops it alone', { timeout: 300_000 }, async () => {
    const port = await freeRegistryPort();
    const url = `http://127.0.0.1:${port}/apis/ccompat/v7`;
    const config = stackConfig('stack', url);

    const without = await stackUp(config, progress);
    expect(without.schemaRegistry).toBeUndefined();
    expect(without.kafka).toMatchObject({ answering: true, ours: false });

    const began = Date.now();
    const up = await stackUp(config, progress, undefined, { withRegistry: true });
    progress(`stackUp with the registry took ${Date.now() - began} ms`);
    // Kafka is the machine's: this STACKL_HOME's down must not stop it.
    expect(up.kafka).toMatchObject({ answering: true, ours: false });
    expect(up.schemaRegistry).toMatchObject({ address: `127.0.0.1:${port}`, url, answering: true, ours: true });
    expect(up.schemaRegistry?.clientEnv).toBeUndefined();
    const pid = up.schemaRegistry?.pid ?? 0;
    expect(isAlive(pid)).toBe(true);
    expect(runningRegistryPid(join(config.stateDir, 'pids'))).toBe(pid);
    expect(await registryAnswers(url)).toBe(true);

    const again = await stackUp(config, progress, undefined, { withRegistry: true });
    expect(again.schemaRegistry).toMatchObject({ ours: true, pid });
    const status = await stackStatus(config);
    expect(status.schemaRegistry).toMatchObject({ url, answering: true, ours: true, pid });
    const id = await register(url, 'kept-value');

    expect(await stackDown(config, progress)).toEqual(['schema-registry (stopped)']);
    expect(isAlive(pid)).toBe(false);
    expect(await registryAnswers(url)).toBe(false);
    expect((await stackStatus(config)).schemaRegistry).toBeUndefined();

    // Its schemas are kept in PostgreSQL: records on Kafka name them by id, so a restart must not forget them.
    const restarted = await stackUp(config, progress, undefined, { withRegistry: true });
    expect(restarted.schemaRegistry?.pid).not.toBe(pid);
    expect(await (await fetch(`${url}/subjects/kept-value/versions/latest`)).json()).toMatchObject({ id, subject: 'kept-value' });
    expect(await stackDown(config, progress)).toEqual(['schema-registry (stopped)']);
    // The machine's Kafka was not ours to stop.
    expect(await brokerAnswers(loadConfig().kafkaBrokers)).toBe(true);
  });

  it('refuses, before starting anything, a URL at which the local Apicurio would not answer', async () => {
    const port = await freeRegistryPort();
    const config = stackConfig('mismatch', `http://127.0.0.1:${port}/registry`);
    await expect(stackUp(config, progress, undefined, { withRegistry: true })).rejects.toMatchObject({
      code: 'CONFIG_INVALID',
      message: expect.stringContaining(`http://127.0.0.1:${port}/apis/ccompat/v7`),
    });
    expect(runningRegistryPid(join(config.stateDir, 'pids'))).toBeUndefined();
    expect(await stackDown(config)).toEqual([]);
  });
});
