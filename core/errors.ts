// One error root for the whole project. Every error we raise on purpose carries a
// stable `code` (clients and tests match on it, never on the message), the HTTP
// status an API would answer with, and whether retrying the same thing can help.
// A non-retriable error on a record means "dead-letter it", never "block the partition".

export interface StacklErrorOptions {
  httpStatus?: number;
  retriable?: boolean;
  cause?: unknown;
  details?: Record<string, unknown>;
}

export class StacklError extends Error {
  readonly code: string;
  readonly httpStatus: number;
  readonly retriable: boolean;
  readonly details: Record<string, unknown>;

  constructor(code: string, message: string, options: StacklErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.httpStatus = options.httpStatus ?? 500;
    this.retriable = options.retriable ?? false;
    this.details = options.details ?? {};
  }
}

/** Configuration that cannot work: refuse to start and say what to change. */
export class ConfigError extends StacklError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('CONFIG_INVALID', message, { httpStatus: 500, retriable: false, details });
  }
}

/** A service we depend on does not answer (Kafka, PostgreSQL, Redis). Retrying may help. */
export class ServiceUnavailableError extends StacklError {
  constructor(service: string, message: string, cause?: unknown) {
    super('SERVICE_UNAVAILABLE', message, { httpStatus: 503, retriable: true, cause, details: { service } });
  }
}

export function isStacklError(error: unknown): error is StacklError {
  return error instanceof StacklError;
}
