// How a configuration becomes a kafkajs client: IPv6 stand-ins, TLS and SASL only when
// configured, secrets revealed only into kafkajs, and which errors are refusals (fatal,
// one line naming the broker) rather than reachability (retried).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { Secret } from '../../../core/secret.js';
import { accessFailure } from '../../../topics/kafka-access.js';
import { kafkajsBroker, realHost } from '../../../topics/kafka-address.js';
import { isSecured, kafkajsConfig } from '../../../topics/kafka-options.js';

const sasl = { mechanism: 'scram-sha-256' as const, username: 'stackl', password: new Secret('pw') };

describe('kafkajs configuration', () => {
  it('hands bracketed IPv6 brokers to kafkajs as stand-in names it can split, and dials the address', () => {
    expect(kafkajsBroker('[::1]:9092')).toBe('--1.ipv6-literal.invalid:9092');
    expect(kafkajsBroker('127.0.0.1:9092')).toBe('127.0.0.1:9092');
    expect(realHost('--1.ipv6-literal.invalid')).toBe('::1');
    expect(realHost('fe80--1-2.ipv6-literal.invalid')).toBe('fe80::1:2');
    expect(realHost('kafka-1.example')).toBe('kafka-1.example');
    expect(kafkajsConfig({ brokers: ['[::1]:9092'], clientId: 'c' }).socketFactory).toBeTypeOf('function');
    expect(kafkajsConfig({ brokers: ['127.0.0.1:9092'], clientId: 'c' }).socketFactory).toBeUndefined();
  });

  it('is plaintext without security settings, and carries TLS and SASL when configured', () => {
    const plain = kafkajsConfig({ brokers: ['127.0.0.1:9092'], clientId: 'c', security: loadConfig({}).kafkaSecurity });
    expect(plain.ssl).toBeUndefined();
    expect(plain.sasl).toBeUndefined();
    expect(isSecured(loadConfig({}).kafkaSecurity)).toBe(false);
    const secured = kafkajsConfig({ brokers: ['127.0.0.1:9092'], clientId: 'c', security: { tls: { rejectUnauthorized: true, ca: 'CA' }, sasl } });
    expect(secured.ssl).toEqual({ rejectUnauthorized: true, ca: 'CA' });
    expect(secured.sasl).toEqual({ mechanism: 'scram-sha-256', username: 'stackl', password: 'pw' });
    expect(secured).toMatchObject({ connectionTimeout: 3000, requestTimeout: 30000, retry: { retries: 8 } });
  });
});

describe('accessFailure', () => {
  const tls = { rejectUnauthorized: true };
  // Shaped as kafkajs throws them: the original error under `cause` of a retry wrapper.
  const wrapped = (inner: Error) => Object.assign(new Error(inner.message), { name: 'KafkaJSNumberOfRetriesExceeded', cause: inner });

  it('names the broker, mechanism and user of a refused login', () => {
    const error = Object.assign(new Error('SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials'), { name: 'KafkaJSSASLAuthenticationError' });
    const refusal = accessFailure(wrapped(error), '127.0.0.1:9094', { sasl });
    expect(refusal?.code).toBe('KAFKA_AUTHENTICATION_FAILED');
    expect(refusal?.message).toBe(
      'Kafka broker 127.0.0.1:9094 refused the SASL SCRAM-SHA-256 login of user "stackl": SASL SCRAM SHA256 authentication failed: Authentication failed during authentication due to invalid credentials (check KAFKA_SASL_MECHANISM, KAFKA_SASL_USERNAME and the password)',
    );
  });

  it('names the broker and the certificate problem of a TLS failure', () => {
    const error = Object.assign(new Error('Connection error: unable to verify the first certificate'), { name: 'KafkaJSConnectionError', code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE' });
    const refusal = accessFailure(wrapped(error), '[::1]:9094', { tls });
    expect(refusal?.code).toBe('KAFKA_TLS_FAILED');
    expect(refusal?.message).toBe('Kafka broker [::1]:9094: TLS connection refused: unable to verify the first certificate [UNABLE_TO_VERIFY_LEAF_SIGNATURE] (check KAFKA_SSL_CA_FILE)');
  });

  it('names a listener that takes no SASL at all', () => {
    const error = Object.assign(new Error('Request is not valid given the current SASL state'), { name: 'KafkaJSProtocolError', type: 'ILLEGAL_SASL_STATE' });
    expect(accessFailure(error, '127.0.0.1:9092', { sasl })?.message).toBe(
      'Kafka broker 127.0.0.1:9092 takes no SASL login on this listener: Request is not valid given the current SASL state (unset KAFKA_SASL_MECHANISM, or name the broker\'s SASL listener in KAFKA_BROKERS)',
    );
  });

  it('leaves reachability to the retries: refused connections, timeouts, and TLS codes on a plaintext client', () => {
    const refused = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9094'), { name: 'KafkaJSConnectionError', code: 'ECONNREFUSED' });
    expect(accessFailure(wrapped(refused), '127.0.0.1:9094', { tls, sasl })).toBeUndefined();
    expect(accessFailure(new Error('Connection timeout'), '127.0.0.1:9094', { tls, sasl })).toBeUndefined();
    const tlsCode = Object.assign(new Error('x'), { code: 'ERR_SSL_WRONG_VERSION_NUMBER' });
    expect(accessFailure(tlsCode, '127.0.0.1:9094', {})).toBeUndefined();
  });
});

describe('every Kafka client', () => {
  // A client built anywhere else would miss the configuration's TLS and SASL.
  it('is built by topics/kafka.ts: no other source constructs a kafkajs Kafka', () => {
    const offenders = sources(['agents', 'api', 'bench', 'core', 'deploy', 'processors', 'schemas', 'topics', 'workers', 'test'])
      .filter((file) => !file.endsWith(join('topics', 'kafka.ts')) && !file.endsWith(join('topics', 'kafka-access.ts')))
      .filter((file) => /new Kafka\(/.test(readFileSync(file, 'utf8')));
    expect(offenders).toEqual([]);
  });
});

function sources(roots: string[]): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const name of readdirSync(dir)) {
      const path = join(dir, name);
      if (statSync(path).isDirectory()) walk(path);
      else if (/\.(ts|mjs)$/.test(name)) found.push(path);
    }
  };
  for (const root of roots) walk(root);
  return found;
}
