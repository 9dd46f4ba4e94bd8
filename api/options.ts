// The API's own knobs, read from the environment next to core/config.ts's addresses.
import { channelNameFrom, DEFAULT_MAX_PAYLOAD_BYTES, type ChannelName } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import { parseApiKeys, type ApiKey } from './api-keys.js';
import { defaultConsoleRoot } from './console-root.js';
import { checkExposure } from './exposure.js';

export interface ApiOptions {
  port: number;
  host: string;
  /** Largest request body accepted, in bytes (413 beyond); by default room for the largest payload plus 64 KiB. */
  bodyLimit: number;
  /** null: keys off, every route open (the local demo). */
  apiKeys: ApiKey[] | null;
  /** Serve a non-loopback host without keys anyway (STACKL_API_INSECURE=1). */
  insecure: boolean;
  /** /metrics and /docs need the `read` scope (keys must be on). */
  protectDocs: boolean;
  /** One log line per request answered, through the API's logger (STACKL_API_ACCESS_LOG=1). */
  accessLog: boolean;
  /** Longest a read-your-writes GET may wait for the projection, in ms. */
  maxWaitMs: number;
  /** The read function is not ready while any partition's projection lag exceeds this many events. */
  readyMaxLag: number;
  /** Commands waiting for Kafka's acknowledgement at once; beyond, 503 OVERLOADED at once. */
  maxPendingSubmits: number;
  /** Longest wait for Kafka's acknowledgement of a command before answering 503 OVERLOADED. */
  submitTimeoutMs: number;
  /** Submissions are refused while at least this many requests wait for the broker (0: no bound). */
  maxBacklog: number;
  /** Submissions are refused while at least this many orders wait for a worker (0: no bound). */
  maxQueuedOrders: number;
  /** Submissions are refused while the orders waiting would take longer than this to drain, in ms (0: no bound). */
  maxOrderWaitMs: number;
  /** How often both backlogs are read from Kafka. */
  backlogPollMs: number;
  /** The Retry-After of every 503 the API answers, in seconds. */
  retryAfterSeconds: number;
  /** The channel workers take orders from: whose consumer group the order backlog follows. */
  channel: ChannelName;
  /** Longest time to receive a whole request (headers and body), in ms. */
  requestTimeoutMs: number;
  /** A socket with no traffic for this long is closed, in ms (longer than any wait a request may ask for). */
  connectionTimeoutMs: number;
  /** An idle keep-alive connection is closed after this, in ms (longer than a load balancer's idle timeout). */
  keepAliveTimeoutMs: number;
  /** Longest wait for a PostgreSQL connection from the pool, in ms. */
  dbConnectTimeoutMs: number;
  /** The built web console served at /ui (STACKL_API_CONSOLE_ROOT; default the package's dist/ui). */
  consoleRoot: string;
  /** How often GET /tasks/live reads the projection for changed tasks, in ms. */
  livePollMs: number;
}

/** A body holds the payload and the task's options around it. */
const BODY_HEADROOM_BYTES = 64 * 1024;

export const defaultApiOptions: ApiOptions = {
  port: 8080,
  host: '127.0.0.1',
  bodyLimit: DEFAULT_MAX_PAYLOAD_BYTES + BODY_HEADROOM_BYTES,
  apiKeys: null,
  insecure: false,
  protectDocs: false,
  accessLog: false,
  maxWaitMs: 10_000,
  readyMaxLag: 1000,
  maxPendingSubmits: 1000,
  submitTimeoutMs: 5000,
  maxBacklog: 5000,
  maxQueuedOrders: 2000,
  maxOrderWaitMs: 30_000,
  backlogPollMs: 1000,
  retryAfterSeconds: 2,
  channel: 'kafka',
  requestTimeoutMs: 30_000,
  connectionTimeoutMs: 75_000,
  keepAliveTimeoutMs: 65_000,
  dbConnectTimeoutMs: 5000,
  consoleRoot: defaultConsoleRoot(),
  livePollMs: 500,
};

type Env = Record<string, string | undefined>;

/** `maxPayloadBytes` (STACKL_MAX_PAYLOAD_BYTES) sizes the default body limit. */
export function apiOptionsFromEnv(env: Env = process.env, maxPayloadBytes = DEFAULT_MAX_PAYLOAD_BYTES): ApiOptions {
  const int = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw.trim() === '') return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < min || value > max) throw new ConfigError(`${name} must be an integer from ${min} to ${max}, got "${raw}"`);
    return value;
  };
  const flag = (name: string): boolean => {
    const raw = env[name]?.trim() ?? '';
    if (raw === '' || raw === '0' || raw === 'false') return false;
    if (raw === '1' || raw === 'true') return true;
    throw new ConfigError(`${name} must be 1 or 0, got "${raw}"`);
  };
  const host = env.STACKL_API_HOST?.trim() || defaultApiOptions.host;
  if (/\s/.test(host)) throw new ConfigError(`STACKL_API_HOST must be a host name or address, got "${host}"`);
  const d = defaultApiOptions;
  const options: ApiOptions = {
    port: int('STACKL_API_PORT', d.port, 0, 65535),
    host,
    bodyLimit: int('STACKL_API_BODY_LIMIT', maxPayloadBytes + BODY_HEADROOM_BYTES, 1024, 64 * 1024 * 1024),
    apiKeys: parseApiKeys(env.STACKL_API_KEYS),
    insecure: flag('STACKL_API_INSECURE'),
    protectDocs: flag('STACKL_API_PROTECT_DOCS'),
    accessLog: flag('STACKL_API_ACCESS_LOG'),
    maxWaitMs: int('STACKL_API_MAX_WAIT_MS', d.maxWaitMs, 0, 120_000),
    readyMaxLag: int('STACKL_API_READY_MAX_LAG', d.readyMaxLag, 0, Number.MAX_SAFE_INTEGER),
    maxPendingSubmits: int('STACKL_API_MAX_PENDING_SUBMITS', d.maxPendingSubmits, 1, 1_000_000),
    submitTimeoutMs: int('STACKL_API_SUBMIT_TIMEOUT_MS', d.submitTimeoutMs, 100, 120_000),
    maxBacklog: int('STACKL_API_MAX_BACKLOG', d.maxBacklog, 0, Number.MAX_SAFE_INTEGER),
    maxQueuedOrders: int('STACKL_API_MAX_QUEUED_ORDERS', d.maxQueuedOrders, 0, Number.MAX_SAFE_INTEGER),
    maxOrderWaitMs: int('STACKL_API_MAX_ORDER_WAIT_MS', d.maxOrderWaitMs, 0, 3_600_000),
    backlogPollMs: int('STACKL_API_BACKLOG_POLL_MS', d.backlogPollMs, 100, 60_000),
    retryAfterSeconds: int('STACKL_API_RETRY_AFTER_S', d.retryAfterSeconds, 1, 3600),
    channel: channelNameFrom(env),
    requestTimeoutMs: int('STACKL_API_REQUEST_TIMEOUT_MS', d.requestTimeoutMs, 1000, 600_000),
    connectionTimeoutMs: int('STACKL_API_CONNECTION_TIMEOUT_MS', d.connectionTimeoutMs, 1000, 3_600_000),
    keepAliveTimeoutMs: int('STACKL_API_KEEP_ALIVE_TIMEOUT_MS', d.keepAliveTimeoutMs, 1000, 3_600_000),
    dbConnectTimeoutMs: int('STACKL_API_DB_CONNECT_TIMEOUT_MS', d.dbConnectTimeoutMs, 100, 600_000),
    consoleRoot: env.STACKL_API_CONSOLE_ROOT?.trim() || d.consoleRoot,
    livePollMs: int('STACKL_API_LIVE_POLL_MS', d.livePollMs, 50, 60_000),
  };
  checkApiOptions(options);
  return options;
}

/** What no single variable can say on its own: checked on the environment and again on the options a server starts with. */
export function checkApiOptions(options: ApiOptions): void {
  checkExposure(options);
  if (options.protectDocs && options.apiKeys === null) {
    throw new ConfigError('STACKL_API_PROTECT_DOCS=1 puts /metrics and /docs behind the read scope, which needs STACKL_API_KEYS');
  }
  // A socket idle while its request legitimately waits must not be cut under it.
  const longestWait = Math.max(options.maxWaitMs, options.submitTimeoutMs);
  if (options.connectionTimeoutMs <= longestWait) {
    throw new ConfigError(`STACKL_API_CONNECTION_TIMEOUT_MS (${options.connectionTimeoutMs}) must be longer than the longest wait a request may ask for (${longestWait} ms)`);
  }
}
