// How STACKL reaches Kafka: the bootstrap addresses (IPv6 in brackets) and the
// connection's security (TLS with PEM files, SASL PLAIN or SCRAM). Every file is read
// and checked here, at start, so a wrong path or a key that does not match its
// certificate is a ConfigError naming the setting, not a TLS failure minutes later.
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isIPv6 } from 'node:net';
import { ConfigError } from './errors.js';
import { Secret } from './secret.js';

type Env = Record<string, string | undefined>;

export const SASL_MECHANISMS = ['plain', 'scram-sha-256', 'scram-sha-512'] as const;
export type SaslMechanism = (typeof SASL_MECHANISMS)[number];

export interface KafkaTlsSettings {
  /** PEM of the certificate authorities to trust; absent: Node's built-in roots. */
  ca?: string;
  /** PEM client certificate and its key, for brokers that ask for one (mutual TLS). */
  cert?: string;
  key?: Secret;
  rejectUnauthorized: boolean;
}

export interface KafkaSaslSettings {
  mechanism: SaslMechanism;
  username: string;
  password: Secret;
}

/** Empty when the cluster takes plaintext connections without authentication (the default). */
export interface KafkaSecurity {
  tls?: KafkaTlsSettings;
  sasl?: KafkaSaslSettings;
}

/** `host:port` or `[ipv6]:port`, comma separated; each entry kept as written. */
export function kafkaBrokersFrom(env: Env): string[] {
  const brokers = (env.KAFKA_BROKERS ?? '127.0.0.1:9092')
    .split(',')
    .map((b) => b.trim())
    .filter((b) => b.length > 0);
  if (brokers.length === 0) throw new ConfigError('KAFKA_BROKERS is set but names no broker (expected host:port[,host:port])');
  for (const broker of brokers) parseBrokerAddress(broker);
  return brokers;
}

/** Splits a KAFKA_BROKERS entry; the host of a bracketed IPv6 entry comes back without brackets. */
export function parseBrokerAddress(broker: string): { host: string; port: number } {
  const match = /^(?:\[([^\]\s]+)\]|([^\s:[\]]+)):(\d{1,5})$/.exec(broker);
  const port = Number(match?.[3]);
  const host = match?.[1] ?? match?.[2];
  if (match === null || host === undefined || port < 1 || port > 65535) {
    const hint = isIPv6(broker.replace(/:\d+$/, '')) || broker.split(':').length > 2 ? ' (write an IPv6 address in brackets: [::1]:9092)' : '';
    throw new ConfigError(`KAFKA_BROKERS entry "${broker}" is not host:port${hint}`, { broker });
  }
  if (match[1] !== undefined && !isIPv6(host)) throw new ConfigError(`KAFKA_BROKERS entry "${broker}" has brackets around something that is not an IPv6 address`, { broker });
  return { host, port };
}

export function kafkaSecurityFrom(env: Env): KafkaSecurity {
  const tls = tlsFrom(env);
  const sasl = saslFrom(env);
  return { ...(tls === undefined ? {} : { tls }), ...(sasl === undefined ? {} : { sasl }) };
}

function tlsFrom(env: Env): KafkaTlsSettings | undefined {
  const enabled = booleanSetting(env, 'KAFKA_SSL', false);
  const dependents = ['KAFKA_SSL_CA_FILE', 'KAFKA_SSL_CERT_FILE', 'KAFKA_SSL_KEY_FILE', 'KAFKA_SSL_REJECT_UNAUTHORIZED'].filter((name) => env[name] !== undefined);
  if (!enabled) {
    if (dependents.length > 0) throw new ConfigError(`${dependents.join(', ')} ${dependents.length === 1 ? 'is' : 'are'} set but KAFKA_SSL is not "true"`);
    return undefined;
  }
  const rejectUnauthorized = booleanSetting(env, 'KAFKA_SSL_REJECT_UNAUTHORIZED', true);
  const ca = optionalPem(env, 'KAFKA_SSL_CA_FILE', 'CERTIFICATE');
  if (ca !== undefined) certificates('KAFKA_SSL_CA_FILE', env.KAFKA_SSL_CA_FILE ?? '', ca);
  const cert = optionalPem(env, 'KAFKA_SSL_CERT_FILE', 'CERTIFICATE');
  const key = optionalPem(env, 'KAFKA_SSL_KEY_FILE', 'PRIVATE KEY');
  if ((cert === undefined) !== (key === undefined)) {
    throw new ConfigError(`KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together (a client certificate needs its key); only ${cert === undefined ? 'KAFKA_SSL_KEY_FILE' : 'KAFKA_SSL_CERT_FILE'} is set`);
  }
  if (cert !== undefined && key !== undefined) checkKeyPair(env, cert, key);
  return {
    rejectUnauthorized,
    ...(ca === undefined ? {} : { ca }),
    ...(cert === undefined || key === undefined ? {} : { cert, key: new Secret(key) }),
  };
}

function saslFrom(env: Env): KafkaSaslSettings | undefined {
  const raw = env.KAFKA_SASL_MECHANISM;
  const passwordFile = env.KAFKA_SASL_PASSWORD_FILE;
  if (raw === undefined) {
    const stray = ['KAFKA_SASL_USERNAME', 'KAFKA_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD_FILE'].filter((name) => env[name] !== undefined);
    if (stray.length > 0) throw new ConfigError(`${stray.join(', ')} ${stray.length === 1 ? 'is' : 'are'} set but KAFKA_SASL_MECHANISM is not (one of ${SASL_MECHANISMS.join(', ')})`);
    return undefined;
  }
  const mechanism = raw.trim().toLowerCase();
  if (!isMechanism(mechanism)) throw new ConfigError(`KAFKA_SASL_MECHANISM must be one of ${SASL_MECHANISMS.join(', ')}, got "${raw}"`);
  const username = env.KAFKA_SASL_USERNAME ?? '';
  if (username.length === 0) throw new ConfigError(`KAFKA_SASL_MECHANISM is ${mechanism} but KAFKA_SASL_USERNAME is not set`);
  if (env.KAFKA_SASL_PASSWORD !== undefined && passwordFile !== undefined) {
    throw new ConfigError('KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set; give the password one way');
  }
  const password = passwordFile === undefined ? env.KAFKA_SASL_PASSWORD : passwordFromFile(passwordFile);
  if (password === undefined) throw new ConfigError(`KAFKA_SASL_MECHANISM is ${mechanism} but neither KAFKA_SASL_PASSWORD nor KAFKA_SASL_PASSWORD_FILE is set`);
  if (password.length === 0) throw new ConfigError(`the SASL password (${passwordFile === undefined ? 'KAFKA_SASL_PASSWORD' : 'KAFKA_SASL_PASSWORD_FILE'}) is empty`);
  return { mechanism, username, password: new Secret(password) };
}

function isMechanism(value: string): value is SaslMechanism {
  return (SASL_MECHANISMS as readonly string[]).includes(value);
}

/** Secret files usually end with the newline an editor or `echo` added; only that is dropped. */
function passwordFromFile(file: string): string {
  return readSetting('KAFKA_SASL_PASSWORD_FILE', file).replace(/\r?\n$/, '');
}

function booleanSetting(env: Env, name: string, fallback: boolean): boolean {
  const raw = env[name];
  if (raw === undefined) return fallback;
  const value = raw.trim().toLowerCase();
  if (value === 'true') return true;
  if (value === 'false') return false;
  throw new ConfigError(`${name} must be "true" or "false", got "${raw}"`);
}

function optionalPem(env: Env, name: string, label: 'CERTIFICATE' | 'PRIVATE KEY'): string | undefined {
  const file = env[name];
  if (file === undefined) return undefined;
  const text = readSetting(name, file);
  if (label === 'PRIVATE KEY' && text.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----')) {
    throw new ConfigError(`${name} (${file}) holds an encrypted private key; STACKL needs it unencrypted (protect the file instead)`);
  }
  if (!new RegExp(`-----BEGIN [A-Z ]*${label}-----`).test(text)) {
    throw new ConfigError(`${name} (${file}) holds no PEM ${label === 'CERTIFICATE' ? 'certificate' : 'private key'} (a "-----BEGIN ${label}-----" block)`);
  }
  return text;
}

function readSetting(name: string, file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${name} names a file that cannot be read: ${file} (${reason})`, { file });
  }
}

/** Every certificate of a PEM bundle parses; error text never quotes the file's content. */
function certificates(name: string, file: string, pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  try {
    return blocks.map((block) => new X509Certificate(block));
  } catch {
    throw new ConfigError(`${name} (${file}) holds a certificate that does not parse as X.509`);
  }
}

function checkKeyPair(env: Env, certPem: string, keyPem: string): void {
  const [leaf] = certificates('KAFKA_SSL_CERT_FILE', env.KAFKA_SSL_CERT_FILE ?? '', certPem);
  let key;
  try {
    key = createPrivateKey(keyPem);
  } catch {
    throw new ConfigError(`KAFKA_SSL_KEY_FILE (${env.KAFKA_SSL_KEY_FILE}) holds a private key that does not parse`);
  }
  if (leaf === undefined || !leaf.checkPrivateKey(key)) {
    throw new ConfigError(`KAFKA_SSL_KEY_FILE (${env.KAFKA_SSL_KEY_FILE}) is not the key of the certificate in KAFKA_SSL_CERT_FILE (${env.KAFKA_SSL_CERT_FILE})`);
  }
}
