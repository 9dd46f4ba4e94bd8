// /metrics and /healthz for a role run alone (`stackl broker`, `worker`, …), on
// STACKL_METRICS_PORT: the API serves both itself, and `stackl all` serves every role's
// metrics on the API's /metrics. Plain node:http: two read-only routes need no framework.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConfigError } from './errors.js';
import { metricsRegistry } from './metrics.js';

export interface MetricsServer {
  /** Where it listens, e.g. http://127.0.0.1:9464. */
  address: string;
  stop(): Promise<void>;
}

/** STACKL_METRICS_PORT (0: any free port), or undefined when unset. */
export function metricsPortFrom(env: Record<string, string | undefined>): number | undefined {
  const raw = env.STACKL_METRICS_PORT;
  if (raw === undefined || raw === '') return undefined;
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new ConfigError(`STACKL_METRICS_PORT must be a port number (0 picks a free one), got "${raw}"`);
  return port;
}

export async function serveMetrics(role: string, port: number, host = process.env.STACKL_METRICS_HOST ?? '127.0.0.1'): Promise<MetricsServer> {
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET') {
      response.writeHead(405, { allow: 'GET' }).end();
      return;
    }
    if (request.url === '/healthz') {
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ status: 'ok', role }));
      return;
    }
    if (request.url !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: /metrics and /healthz only\n');
      return;
    }
    metricsRegistry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': metricsRegistry.contentType }).end(text),
      (error: unknown) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`metrics failed: ${error instanceof Error ? error.message : String(error)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, resolve);
  });
  const { port: bound } = server.address() as AddressInfo;
  return {
    address: `http://${host}:${bound}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
