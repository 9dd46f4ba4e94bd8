// A webhook receiver on 127.0.0.1 whose answers a test scripts per delivery: fail with a
// status, stall (never answer), or accept. It records every request with its raw body and
// headers, so a test checks signatures and delivery ids as a real receiver would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A status, a stall (never answer), or a redirect to another path of this receiver. */
export type Answer = number | 'stall' | { redirectTo: string };

export interface Received {
  path: string;
  body: string;
  headers: IncomingMessage['headers'];
  answer: Answer;
  at: number;
}

export class Receiver {
  readonly received: Received[] = [];
  private readonly server: Server;
  private readonly stalled: ServerResponse[] = [];
  /** Per path: the answers to give, in order; the last one repeats. Unlisted paths get 200. */
  private readonly scripts = new Map<string, Answer[]>();

  constructor() {
    this.server = createServer((request, response) => {
      const chunks: Buffer[] = [];
      request.on('data', (chunk: Buffer) => chunks.push(chunk));
      request.on('end', () => {
        const path = request.url ?? '/';
        const script = this.scripts.get(path) ?? [200];
        const answer = (script.length > 1 ? script.shift() : script[0]) as Answer;
        this.received.push({ path, body: Buffer.concat(chunks).toString('utf8'), headers: request.headers, answer, at: Date.now() });
        if (answer === 'stall') {
          this.stalled.push(response);
          return;
        }
        if (typeof answer === 'object') {
          response.writeHead(307, { location: answer.redirectTo }).end();
          return;
        }
        response.writeHead(answer, { 'content-type': 'text/plain' }).end(answer < 300 ? 'ok' : 'not now');
      });
    });
  }

  async start(): Promise<string> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  script(path: string, answers: Answer[]): void {
    this.scripts.set(path, [...answers]);
  }

  to(path: string): Received[] {
    return this.received.filter((r) => r.path === path);
  }

  async waitFor(path: string, count: number, timeoutMs = 60_000): Promise<Received[]> {
    const until = Date.now() + timeoutMs;
    while (this.to(path).length < count) {
      if (Date.now() > until) throw new Error(`${path}: ${this.to(path).length} of ${count} requests within ${timeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return this.to(path);
  }

  async stop(): Promise<void> {
    for (const response of this.stalled) response.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
