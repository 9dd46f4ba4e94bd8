// A TCP proxy of our own (node:net only) that tests put between a client and a real
// service to break the network between them on demand: drop every open connection,
// stall them (open, but no byte moves either way), delay every chunk, or refuse new
// connections for a while. Killing a process tests a crash; this tests the network
// failures a crash does not: a half-dead connection, a slow link, a partition.
import { createServer, connect, type Server, type Socket } from 'node:net';

export interface ProxyTarget {
  host: string;
  port: number;
}

export interface ProxyStats {
  accepted: number;
  refused: number;
  dropped: number;
  /** Chunks a stall held back, and chunks a delay held back. */
  stalledChunks: number;
  delayedChunks: number;
  open: number;
  bytesToTarget: number;
  bytesToClient: number;
}

/** One direction of one connection: chunks wait here while stalled or delayed, in order. */
class Pipe {
  private readonly queue: { chunk: Buffer; dueAt: number; stalled: boolean; delayed: boolean }[] = [];
  private pumping = false;
  private ended = false;

  constructor(
    private readonly from: Socket,
    private readonly to: Socket,
    private readonly proxy: TcpProxy,
    private readonly count: (bytes: number, held: { stalled: boolean; delayed: boolean }) => void,
  ) {
    from.on('data', (chunk: Buffer) => {
      const now = Date.now();
      this.queue.push({ chunk, dueAt: now + proxy.delayMs, stalled: now < proxy.stalledUntil, delayed: proxy.delayMs > 0 });
      void this.pump();
    });
    from.on('end', () => {
      this.ended = true;
      void this.pump();
    });
  }

  /** Moves chunks once they are due and no stall holds them; backpressure pauses the sender. */
  private async pump(): Promise<void> {
    if (this.pumping) return;
    this.pumping = true;
    try {
      while (this.queue.length > 0 && !this.to.destroyed) {
        const head = this.queue[0] as { chunk: Buffer; dueAt: number; stalled: boolean; delayed: boolean };
        const now = Date.now();
        if (now < this.proxy.stalledUntil) head.stalled = true;
        const wait = Math.max(head.dueAt, this.proxy.stalledUntil) - now;
        if (wait > 0) {
          // Stop reading while we hold bytes, so the sender's TCP window fills as on a dead link.
          this.from.pause();
          await sleep(wait);
          continue;
        }
        this.queue.shift();
        this.count(head.chunk.length, head);
        if (!this.to.write(head.chunk)) {
          this.from.pause();
          await new Promise<void>((resolve) => {
            this.to.once('drain', resolve);
            this.to.once('close', resolve);
          });
        }
      }
      if (this.ended && this.queue.length === 0 && !this.to.destroyed) this.to.end();
      else if (!this.from.destroyed) this.from.resume();
    } finally {
      this.pumping = false;
    }
    // A chunk may have arrived while the last write was draining. Not once the far side is
    // gone: the loop above would end at once and call this again, forever (a dropAll() while
    // delayed chunks waited overflowed the stack).
    if (this.to.destroyed) return;
    if (this.queue.length > 0 || (this.ended && !this.to.writableEnded)) void this.pump();
  }
}

export class TcpProxy {
  /** Epoch ms until which no byte is forwarded, either way. */
  stalledUntil = 0;
  /** Every chunk is held this long before it is forwarded. */
  delayMs = 0;
  private refusedUntil = 0;
  private server: Server | undefined;
  private listenPort = 0;
  private reopenTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private readonly connections = new Set<[Socket, Socket]>();
  private readonly counters = { accepted: 0, refused: 0, dropped: 0, stalledChunks: 0, delayedChunks: 0, bytesToTarget: 0, bytesToClient: 0 };

  constructor(
    readonly target: ProxyTarget,
    /** 0: any free port, chosen at start. */
    private readonly wantedPort = 0,
  ) {}

  get port(): number {
    return this.listenPort;
  }

  get address(): string {
    return `127.0.0.1:${this.listenPort}`;
  }

  stats(): ProxyStats {
    return { ...this.counters, open: this.connections.size };
  }

  /** Starts listening on 127.0.0.1; resolves with the port. */
  async start(): Promise<number> {
    this.closed = false;
    this.listenPort = await this.listen(this.wantedPort || this.listenPort);
    return this.listenPort;
  }

  /** Destroys both sockets of every open connection (a reset to each side); returns how many. */
  dropAll(): number {
    const open = [...this.connections];
    for (const pair of open) {
      this.connections.delete(pair);
      for (const socket of pair) reset(socket);
    }
    this.counters.dropped += open.length;
    return open.length;
  }

  /** For `ms`, connections stay open but no byte moves, either way; returns how many were open. */
  stall(ms: number): number {
    this.stalledUntil = Math.max(this.stalledUntil, Date.now() + ms);
    return this.connections.size;
  }

  /** Holds every chunk `ms` before forwarding it (0: none), until set again. */
  setDelay(ms: number): void {
    this.delayMs = ms;
  }

  /** For `ms`, new connections are refused (nothing listens); open ones are left alone. */
  refuse(ms: number): void {
    this.refusedUntil = Math.max(this.refusedUntil, Date.now() + ms);
    const server = this.server;
    this.server = undefined;
    server?.close();
    clearTimeout(this.reopenTimer);
    this.reopenTimer = setTimeout(() => void this.reopen(), this.refusedUntil - Date.now());
  }

  /** True while connections are refused. */
  get refusing(): boolean {
    return Date.now() < this.refusedUntil;
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.reopenTimer);
    this.stalledUntil = 0;
    const server = this.server;
    this.server = undefined;
    this.dropAll();
    if (server !== undefined) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private async reopen(): Promise<void> {
    if (this.closed || this.server !== undefined) return;
    // The port was ours a moment ago; should another process take it meanwhile, try again.
    for (let tries = 0; !this.closed; tries++) {
      try {
        await this.listen(this.listenPort);
        return;
      } catch (error) {
        if (tries >= 50) throw error;
        await sleep(100);
      }
    }
  }

  private listen(port: number): Promise<number> {
    const server = createServer({ allowHalfOpen: true }, (client) => this.accept(client));
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => {
        server.off('error', reject);
        server.on('error', () => {});
        this.server = server;
        const address = server.address();
        resolve(typeof address === 'object' && address !== null ? address.port : port);
      });
    });
  }

  private accept(client: Socket): void {
    if (this.refusing || this.closed) {
      this.counters.refused += 1;
      reset(client);
      return;
    }
    this.counters.accepted += 1;
    const upstream = connect({ host: this.target.host, port: this.target.port, allowHalfOpen: true });
    const pair: [Socket, Socket] = [client, upstream];
    this.connections.add(pair);
    // Either side failing takes the other down, as a broken link would; a side that
    // closed cleanly (both ways ended) lets the other close as cleanly.
    const teardown = (broken: boolean) => (): void => {
      if (!this.connections.delete(pair)) return;
      for (const socket of pair) {
        if (broken) reset(socket);
        else socket.destroy();
      }
    };
    client.on('error', teardown(true));
    upstream.on('error', teardown(true));
    client.on('close', teardown(false));
    upstream.on('close', teardown(false));
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    const count = (direction: 'bytesToTarget' | 'bytesToClient') => (bytes: number, held: { stalled: boolean; delayed: boolean }) => {
      this.counters[direction] += bytes;
      if (held.stalled) this.counters.stalledChunks += 1;
      if (held.delayed) this.counters.delayedChunks += 1;
    };
    new Pipe(client, upstream, this, count('bytesToTarget'));
    new Pipe(upstream, client, this, count('bytesToClient'));
  }
}

function reset(socket: Socket): void {
  if (socket.destroyed) return;
  // A reset, not a polite close: the peer sees the connection broken, as on a network fault.
  try {
    socket.resetAndDestroy();
  } catch {
    socket.destroy();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
