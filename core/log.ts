// Structured logs through pino: one JSON object per line on stderr (stdout stays free
// for command output that scripts parse): `time` (ISO), `level` (a word), `msg`, then
// the component's bindings and the line's fields. Errors anywhere among a line's
// top-level fields are written with their stack and causes; secrets (passwords, API
// keys, webhook secrets, authorization headers, credentials in URLs) never are.
import pino from 'pino';

type Level = 'debug' | 'info' | 'warn' | 'error';
const LEVELS: readonly Level[] = ['debug', 'info', 'warn', 'error'];

/** STACKL_LOG_LEVEL (refused at start when not a level, core/config.ts); read when a logger is made. */
function level(): Level {
  const wanted = process.env.STACKL_LOG_LEVEL as Level | undefined;
  return wanted !== undefined && LEVELS.includes(wanted) ? wanted : 'info';
}

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  child(bindings: Record<string, unknown>): Logger;
}

const SECRET_KEYS = ['password', 'secret', 'apiKeys', 'apiKey', 'authorization', 'cookie', 'sasl'];
/** Field names whose values are never written, at the top level or one level down. */
export const REDACTED_PATHS = [...SECRET_KEYS, ...SECRET_KEYS.map((k) => `*.${k}`), 'headers["x-api-key"]', '*.headers["x-api-key"]'];

/** `user:password@` in a URL written anywhere in a line. */
const URL_CREDENTIALS = /(\b[a-z][a-z0-9+.-]*:\/\/)([^/\s:@]+):([^/\s@]+)@/gi;

function scrub(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(URL_CREDENTIALS, '$1$2:[redacted]@');
  if (value instanceof Error) return pino.stdSerializers.errWithCause(value);
  return value;
}

const root = pino(
  {
    level: 'debug',
    base: null,
    messageKey: 'msg',
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    formatters: {
      level: (label) => ({ level: label }),
      // Errors under any name, not just `err`, and credentials in URLs (DATABASE_URL, a webhook target).
      log: (fields) => Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, scrub(v)])),
    },
  },
  // Synchronous: a role that exits right after a fatal line must not lose it.
  pino.destination({ fd: 2, sync: true }),
);

function wrap(logger: pino.Logger): Logger {
  return {
    debug: (msg, fields) => logger.debug(fields ?? {}, scrub(msg) as string),
    info: (msg, fields) => logger.info(fields ?? {}, scrub(msg) as string),
    warn: (msg, fields) => logger.warn(fields ?? {}, scrub(msg) as string),
    error: (msg, fields) => logger.error(fields ?? {}, scrub(msg) as string),
    child: (more) => wrap(logger.child(more)),
  };
}

/** The pino logger itself, for libraries that take one (fastify's access log). */
export function pinoLogger(bindings: Record<string, unknown> = {}): pino.Logger {
  return root.child(bindings, { level: level() });
}

export function createLogger(bindings: Record<string, unknown> = {}): Logger {
  return wrap(root.child(bindings, { level: level() }));
}
