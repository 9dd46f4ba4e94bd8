// What a failure means for the record that met it. Three answers, and only three:
// - transient: the cluster, the network or a service blinked; the same work will succeed
//   later, so it is retried with backoff and the record is never dead-lettered for it;
// - refused: Kafka will never take one of the records this work writes (too large, a
//   topic nobody may write); retrying cannot help, so the record that caused it is isolated;
// - poison: the input itself cannot be processed (it does not decode or validate).
import { isStacklError } from '../../core/errors.js';

/** Broker answers that mean "this record, to this topic, never": a retry gets the same answer. */
const REFUSALS = new Set([
  'MESSAGE_TOO_LARGE',
  'RECORD_LIST_TOO_LARGE',
  'INVALID_TOPIC_EXCEPTION',
  'TOPIC_AUTHORIZATION_FAILED',
  'OPERATION_NOT_ATTEMPTED',
  'INVALID_RECORD',
  'POLICY_VIOLATION',
  'INVALID_TIMESTAMP',
  'UNSUPPORTED_FOR_MESSAGE_FORMAT',
  'INVALID_PARTITIONS',
]);

/** Node's socket errors: the network, not the record. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNABORTED']);

interface ErrorFields {
  name?: unknown;
  type?: unknown;
  code?: unknown;
  retriable?: unknown;
  cause?: unknown;
}

/** The error at the bottom of kafkajs' wrappers (retries exceeded wraps the last attempt's error). */
function rootOf(error: unknown): ErrorFields {
  let current = error as ErrorFields;
  for (let depth = 0; depth < 5 && current?.name === 'KafkaJSNumberOfRetriesExceeded' && current.cause !== undefined; depth++) {
    current = current.cause as ErrorFields;
  }
  return current ?? {};
}

/** The Kafka error type (MESSAGE_TOO_LARGE, …) behind `error`, if any. */
export function kafkaErrorType(error: unknown): string | undefined {
  const root = rootOf(error);
  return typeof root.type === 'string' ? root.type : undefined;
}

/** Kafka refused a record of this work for good. */
export function isRefusal(error: unknown): boolean {
  return REFUSALS.has(kafkaErrorType(error) ?? '');
}

/**
 * Retrying the same work later may succeed: a retriable STACKL error (a service that did not
 * answer), any kafkajs error that is not a refusal (connections, timeouts, leaders moving,
 * retries that ran out on any of those), or a socket error.
 */
export function isTransient(error: unknown): boolean {
  if (isStacklError(error)) return error.retriable;
  if (isRefusal(error)) return false;
  const root = rootOf(error);
  if (typeof root.name === 'string' && root.name.startsWith('KafkaJS')) return true;
  return typeof root.code === 'string' && NETWORK_CODES.has(root.code);
}

/** Short words for logs and dead-letter headers. */
export function describeFailure(error: unknown): { code: string; message: string } {
  const type = kafkaErrorType(error);
  const code = isStacklError(error) ? error.code : (type ?? 'PROCESSING_FAILED');
  return { code, message: error instanceof Error ? error.message : String(error) };
}
