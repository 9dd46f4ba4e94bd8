// Fail fast on credentials and certificates. kafkajs treats a TLS failure as a
// connection error and retries it for about a minute, and its SASL errors name no
// broker; an operator with a wrong password or CA would watch a role hang, then read
// a stack trace. So before a secured client first connects, we connect once to each
// bootstrap broker in turn, with no retries and no kafkajs logging: a refused login or
// an untrusted certificate becomes one KafkaAccessError naming the broker and the
// cause; a broker that does not answer is left to the normal connect and its retries.
import { Kafka, logLevel } from 'kafkajs';
import { StacklError } from '../core/errors.js';
import type { KafkaSecurity } from '../core/kafka-settings.js';
import { kafkajsConfig, type KafkaClientOptions } from './kafka-options.js';

export type KafkaAccessFailure = 'authentication' | 'tls';

export class KafkaAccessError extends StacklError {
  constructor(broker: string, failure: KafkaAccessFailure, message: string) {
    super(failure === 'authentication' ? 'KAFKA_AUTHENTICATION_FAILED' : 'KAFKA_TLS_FAILED', message, {
      retriable: false,
      details: { broker, failure },
    });
  }
}

// Node's codes for a certificate it will not trust (the TLS alerts are ERR_SSL_*).
const CERTIFICATE_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
  'HOSTNAME_MISMATCH',
]);

/** 'verified' once a bootstrap broker accepted us; 'unreachable' when none answered. */
export async function checkKafkaAccess(options: KafkaClientOptions): Promise<'verified' | 'unreachable'> {
  for (const broker of options.brokers) {
    const kafka = new Kafka({
      ...kafkajsConfig({ ...options, brokers: [broker], retries: 0, connectionTimeoutMs: options.connectionTimeoutMs ?? 3000, requestTimeoutMs: 10_000 }),
      logLevel: logLevel.NOTHING,
    });
    const admin = kafka.admin({ retry: { retries: 0 } });
    try {
      await admin.connect();
      return 'verified';
    } catch (error) {
      const refusal = accessFailure(error, broker, options.security);
      if (refusal !== undefined) throw refusal;
    } finally {
      await admin.disconnect().catch(() => {});
    }
  }
  return 'unreachable';
}

/** The refusal an error stands for, or undefined when it is about reachability (retry may help). */
export function accessFailure(error: unknown, broker: string, security: KafkaSecurity | undefined): KafkaAccessError | undefined {
  for (const e of causes(error)) {
    if (e.name === 'KafkaJSSASLAuthenticationError' || e.type === 'SASL_AUTHENTICATION_FAILED' || e.type === 'UNSUPPORTED_SASL_MECHANISM') {
      const sasl = security?.sasl;
      const who = sasl === undefined ? '' : ` ${sasl.mechanism.toUpperCase()} login of user "${sasl.username}"`;
      return new KafkaAccessError(broker, 'authentication', `Kafka broker ${broker} refused the SASL${who}: ${oneLine(e.message)} (check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password)`);
    }
    if (e.type === 'ILLEGAL_SASL_STATE' && security?.sasl !== undefined) {
      return new KafkaAccessError(broker, 'authentication', `Kafka broker ${broker} takes no SASL login on this listener: ${oneLine(e.message)} (unset KAFKA_SASL_MECHANISM, or name the broker's SASL listener in KAFKA_BROKERS)`);
    }
    const code = typeof e.code === 'string' ? e.code : '';
    if (security?.tls !== undefined && (CERTIFICATE_CODES.has(code) || /^ERR_(SSL|TLS)_/.test(code) || /before secure TLS connection was established/.test(e.message))) {
      const hint = /ALERT|before secure TLS/.test(code + e.message) ? 'is it a TLS listener, and does it accept our client certificate (KAFKA_SSL_CERT_FILE)?' : 'check KAFKA_SSL_CA_FILE';
      const detail = oneLine(e.message.replace(/^Connection error: /, ''));
      return new KafkaAccessError(broker, 'tls', `Kafka broker ${broker}: TLS connection refused: ${detail}${code ? ` [${code}]` : ''} (${hint})`);
    }
  }
  return undefined;
}

interface ErrorLike {
  name: string;
  message: string;
  type?: unknown;
  code?: unknown;
}

/** The error and what it wraps (kafkajs nests the original under `cause` once or twice). */
function* causes(error: unknown): Generator<ErrorLike> {
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    yield current as Error & ErrorLike;
    current = (current as { cause?: unknown }).cause;
  }
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}
