// What a kafkajs client is made of, apart from logging: addresses, TLS, SASL and the
// retry and timeout choices every role shares. Secrets are revealed here, on their way
// into kafkajs, and nowhere else.
import type { KafkaConfig, SASLOptions } from 'kafkajs';
import type { ConnectionOptions } from 'node:tls';
import type { KafkaSaslSettings, KafkaSecurity, KafkaTlsSettings } from '../core/kafka-settings.js';
import { kafkajsBroker, needsOwnSocketFactory, socketFactory } from './kafka-address.js';

export interface KafkaClientOptions {
  /** Bootstrap addresses as written in KAFKA_BROKERS. */
  brokers: string[];
  clientId: string;
  /** TLS and SASL; absent or empty: plaintext without authentication. */
  security?: KafkaSecurity;
  /** Probes shorten these; roles keep the defaults. */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  retries?: number;
  /** No kafkajs log lines at all: for probes, whose failure is the answer. */
  quiet?: boolean;
}

export function kafkajsConfig(options: KafkaClientOptions): KafkaConfig {
  const { tls, sasl } = options.security ?? {};
  return {
    clientId: options.clientId,
    brokers: options.brokers.map(kafkajsBroker),
    ...(needsOwnSocketFactory(options.brokers) ? { socketFactory } : {}),
    ...(tls === undefined ? {} : { ssl: tlsOptions(tls) }),
    ...(sasl === undefined ? {} : { sasl: saslOptions(sasl) }),
    connectionTimeout: options.connectionTimeoutMs ?? 3000,
    requestTimeout: options.requestTimeoutMs ?? 30000,
    retry: { initialRetryTime: 100, retries: options.retries ?? 8 },
  };
}

export function isSecured(security: KafkaSecurity | undefined): boolean {
  return security?.tls !== undefined || security?.sasl !== undefined;
}

function tlsOptions(tls: KafkaTlsSettings): ConnectionOptions {
  return {
    rejectUnauthorized: tls.rejectUnauthorized,
    ...(tls.ca === undefined ? {} : { ca: tls.ca }),
    ...(tls.cert === undefined || tls.key === undefined ? {} : { cert: tls.cert, key: tls.key.reveal() }),
  };
}

function saslOptions(sasl: KafkaSaslSettings): SASLOptions {
  const credentials = { username: sasl.username, password: sasl.password.reveal() };
  switch (sasl.mechanism) {
    case 'plain':
      return { mechanism: 'plain', ...credentials };
    case 'scram-sha-256':
      return { mechanism: 'scram-sha-256', ...credentials };
    case 'scram-sha-512':
      return { mechanism: 'scram-sha-512', ...credentials };
    default: {
      const never: never = sasl.mechanism;
      throw new Error(`unknown SASL mechanism ${String(never)}`);
    }
  }
}
