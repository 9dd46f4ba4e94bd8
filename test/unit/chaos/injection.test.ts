// A fault counts as injected only when it happened: a kill or a pause of a role with no
// process, or a network fault with no connection or no byte to break, is reported as
// not injected, with the reason, instead of being counted. A Kafka or Redis fault in the
// custom broker's world (which runs neither) is no exception.
import { tmpdir } from 'node:os';
import { afterEach, describe, expect, it } from 'vitest';
import { inject, type Fault, type FaultKind } from '../../chaos/support/faults.js';
import { Role } from '../../chaos/support/role.js';
import { World } from '../../chaos/support/world.js';
import { freePort } from '../../support/ports.js';
import type { PrivateRabbit } from '../../support/rabbitmq-server.js';
import { TcpProxy } from '../../support/tcp-proxy.js';

const fault = (kind: FaultKind): Fault => ({ atMs: 0, kind, instance: 1, hard: true, durationMs: 50, delayMs: 10 });
const proxies: TcpProxy[] = [];

/** A world whose roles never started and whose proxies carry no connection. */
async function idleWorld(): Promise<World> {
  const proxy = async () => {
    const p = new TcpProxy({ host: '127.0.0.1', port: 9 });
    await p.start();
    proxies.push(p);
    return p;
  };
  const roles = ['worker-1', 'agent', 'projector'].map((name) => new Role(name, [name], {}, tmpdir()));
  return { kafkaProxy: await proxy(), postgresProxy: await proxy(), role: (name: string) => roles.find((r) => r.name === name) } as unknown as World;
}

/** A World's own restartRabbit on the given node, without the rest of a world (no services, no folders). */
function worldWithRabbit(channel: World['channel'], rabbit: PrivateRabbit | undefined): World {
  return Object.assign(Object.create(World.prototype) as World, { channel, rabbit });
}

afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
});

/** The custom broker's world as World builds it: no Kafka, no Kafka proxy, no Redis. */
function customWorld(): World {
  return Object.assign(Object.create(World.prototype) as World, { channel: 'rabbitmq', broker: 'custom', kafka: undefined, kafkaProxy: undefined, redis: undefined });
}

describe('chaos fault injection', () => {
  it('does not count a kill, a pause or a slow agent when the role has no process', async () => {
    const world = await idleWorld();
    expect(await inject(world, fault('kill-worker'))).toEqual({ injected: false, reason: 'worker-1 had no ready process to kill (pid none, not running)' });
    expect(await inject(world, fault('kill-projector'))).toMatchObject({ injected: false });
    expect(await inject(world, fault('pause-worker'))).toEqual({ injected: false, reason: 'worker-1 had no ready process to pause (pid none)' });
    expect(await inject(world, fault('slow-agent'))).toEqual({ injected: false, reason: 'the agent had no ready process to slow down' });
  });

  it('does not count a network fault that found nothing to break', async () => {
    const world = await idleWorld();
    expect(await inject(world, fault('net-drop-kafka'))).toEqual({ injected: false, reason: 'no connection to Kafka was open to drop' });
    expect(await inject(world, fault('net-drop-postgres'))).toEqual({ injected: false, reason: 'no connection to PostgreSQL was open to drop' });
    expect(await inject(world, fault('net-stall-postgres'))).toEqual({ injected: false, reason: 'no byte to or from PostgreSQL was held by the stall (0 connections open)' });
    expect(await inject(world, fault('net-delay-kafka'))).toEqual({ injected: false, reason: 'no byte crossed the Kafka proxy while the delay was set' });
  });

  it('does not count a RabbitMQ restart on a channel without a node, or on a node that did not answer, and kills nothing then', async () => {
    expect(await inject(worldWithRabbit('kafka', undefined), fault('restart-rabbitmq'))).toEqual({ injected: false, reason: 'no RabbitMQ node runs on the kafka channel' });
    const touched: string[] = [];
    const silent = {
      url: `amqp://guest:guest@127.0.0.1:${await freePort()}`,
      kill: () => Promise.resolve(void touched.push('kill')),
      start: () => Promise.resolve(void touched.push('start')),
    } as unknown as PrivateRabbit;
    expect(await inject(worldWithRabbit('rabbitmq', silent), fault('restart-rabbitmq'))).toEqual({ injected: false, reason: 'RabbitMQ was not answering before the restart' });
    expect(touched).toEqual([]);
  });

  it('does not count a Kafka or Redis fault in the custom broker\'s world, which runs neither', async () => {
    const world = customWorld();
    const none = { injected: false, reason: 'no Kafka runs with the custom broker' };
    for (const kind of ['restart-kafka', 'net-drop-kafka', 'net-stall-kafka', 'net-delay-kafka'] as const) expect({ kind, result: await inject(world, fault(kind)) }).toEqual({ kind, result: none });
    expect(await inject(world, fault('restart-redis'))).toEqual({ injected: false, reason: 'no Redis runs with the custom broker' });
  });
});
