// The chaos suite's TCP proxy, between a raw RESP client and the machine's real Redis:
// it forwards bytes intact both ways, and each fault does what it says — a drop closes
// both sides, a stall holds bytes both ways on a connection that stays open, a delay
// slows every chunk, a refusal turns new connections away while open ones carry on.
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../core/config.js';
import { token } from '../support/names.js';
import { TcpProxy } from '../support/tcp-proxy.js';

const redisUrl = new URL(loadConfig().redisUrl);
const target = { host: redisUrl.hostname, port: Number(redisUrl.port || 6379) };
const direct = new Redis(loadConfig().redisUrl);
let proxy: TcpProxy;
const sockets: Socket[] = [];
const clientList = async (): Promise<string> => String(await direct.client('LIST'));

/** A bare RESP client: what it sends and receives goes through the proxy untouched. */
class RespSocket {
  received = '';
  closed = false;
  error: string | undefined;

  constructor(readonly socket: Socket) {
    socket.on('data', (chunk: Buffer) => (this.received += chunk.toString('latin1')));
    socket.on('error', (e: NodeJS.ErrnoException) => (this.error = e.code ?? e.message));
    socket.on('close', () => (this.closed = true));
  }

  static open(port: number): Promise<RespSocket> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port });
      sockets.push(socket);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new RespSocket(socket));
      });
    });
  }

  send(...args: string[]): void {
    this.socket.write(`*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a, 'latin1')}\r\n${a}\r\n`).join('')}`, 'latin1');
  }

  /** Waits until what arrived contains `text`; resolves with the time it took. */
  async waitFor(text: string, timeoutMs = 5_000): Promise<number> {
    const began = Date.now();
    while (!this.received.includes(text)) {
      if (Date.now() - began > timeoutMs) throw new Error(`"${text}" did not arrive in ${timeoutMs} ms; got ${JSON.stringify(this.received.slice(-200))}`);
      await sleep(5);
    }
    return Date.now() - began;
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

beforeAll(async () => {
  await direct.ping();
});
afterAll(async () => {
  direct.disconnect();
});
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await proxy?.close();
});

describe('TcpProxy, in front of a real Redis', () => {
  it('forwards bytes both ways, intact, on a port of its own', async () => {
    proxy = new TcpProxy(target);
    const port = await proxy.start();
    expect(port).toBeGreaterThan(0);
    expect(port).not.toBe(target.port);
    const key = `proxy-test:${token()}`;
    const value = randomBytes(512 * 1024).toString('hex');
    const client = await RespSocket.open(port);
    client.send('SET', key, value);
    await client.waitFor('+OK\r\n');
    expect(await direct.get(key)).toBe(value);
    client.send('GET', key);
    await client.waitFor(`$${value.length}\r\n${value}\r\n`);
    expect(proxy.stats()).toMatchObject({ accepted: 1, open: 1 });
    expect(proxy.stats().bytesToTarget).toBeGreaterThan(value.length);
    expect(proxy.stats().bytesToClient).toBeGreaterThan(value.length);
    await direct.del(key);
  });

  it('drops every open connection: both sides are closed, and new ones work', async () => {
    proxy = new TcpProxy(target);
    const port = await proxy.start();
    const name = `proxied-${token()}`;
    const client = await RespSocket.open(port);
    client.send('CLIENT', 'SETNAME', name);
    await client.waitFor('+OK\r\n');
    expect(await clientList()).toContain(`name=${name}`);

    expect(proxy.dropAll()).toBe(1);
    // The client's side: its connection is broken.
    for (let i = 0; i < 100 && !client.closed; i++) await sleep(10);
    expect(client.closed).toBe(true);
    // The server's side: Redis no longer lists the connection.
    let listed = true;
    for (let i = 0; i < 100 && listed; i++, await sleep(10)) listed = (await clientList()).includes(`name=${name}`);
    expect(listed).toBe(false);
    expect(proxy.stats()).toMatchObject({ dropped: 1, open: 0 });

    const again = await RespSocket.open(port);
    again.send('PING');
    await again.waitFor('+PONG\r\n');
  });

  it('stalls: the connection stays open but no byte moves, either way, until the stall ends', async () => {
    proxy = new TcpProxy(target);
    const port = await proxy.start();
    const key = `proxy-test:${token()}`;
    const channel = `proxy-test:${token()}`;
    const writer = await RespSocket.open(port);
    const subscriber = await RespSocket.open(port);
    subscriber.send('SUBSCRIBE', channel);
    await subscriber.waitFor(channel);
    writer.send('PING');
    await writer.waitFor('+PONG\r\n');

    const stallMs = 1_500;
    expect(proxy.stall(stallMs)).toBe(2);
    const began = Date.now();
    // Client → server held: the SET does not reach Redis.
    writer.send('SET', key, 'stalled');
    // Server → client held: Redis delivers the message to the proxy, which keeps it.
    expect(await direct.publish(channel, 'held-message')).toBe(1);
    await sleep(1_000);
    expect(await direct.get(key)).toBeNull();
    expect(subscriber.received).not.toContain('held-message');
    expect(writer.closed || subscriber.closed).toBe(false);

    await writer.waitFor('+OK\r\n', 5_000);
    await subscriber.waitFor('held-message', 5_000);
    expect(Date.now() - began).toBeGreaterThanOrEqual(stallMs - 20);
    // The SET one way, the message the other way.
    expect(proxy.stats().stalledChunks).toBeGreaterThanOrEqual(2);
    expect(await direct.get(key)).toBe('stalled');
    expect(writer.closed || subscriber.closed).toBe(false);
    await direct.del(key);
  });

  it('delays every chunk, both ways, while a delay is set', async () => {
    proxy = new TcpProxy(target);
    const port = await proxy.start();
    const client = await RespSocket.open(port);
    const roundTrip = async (): Promise<number> => {
      const before = client.received.length;
      const began = Date.now();
      client.send('PING');
      while (!client.received.slice(before).includes('+PONG\r\n')) await sleep(2);
      return Date.now() - began;
    };
    expect(await roundTrip()).toBeLessThan(150);
    expect(proxy.stats().delayedChunks).toBe(0);
    proxy.setDelay(200);
    // The PING waits 200 ms on its way in, the PONG 200 ms on its way out.
    expect(await roundTrip()).toBeGreaterThanOrEqual(390);
    expect(proxy.stats().delayedChunks).toBe(2);
    proxy.setDelay(0);
    expect(await roundTrip()).toBeLessThan(150);
  });

  it('refuses new connections for a while; open ones carry on; then accepts again', async () => {
    proxy = new TcpProxy(target);
    const port = await proxy.start();
    const open = await RespSocket.open(port);
    proxy.refuse(1_000);
    expect(proxy.refusing).toBe(true);
    await expect(RespSocket.open(port)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    open.send('PING');
    await open.waitFor('+PONG\r\n');

    await sleep(1_200);
    expect(proxy.refusing).toBe(false);
    const later = await RespSocket.open(port);
    later.send('PING');
    await later.waitFor('+PONG\r\n');
    expect(proxy.port).toBe(port);
  });
});
