// KAFKA_* settings: brokers (IPv6 in brackets), TLS from PEM files, SASL, and every
// refusal naming its setting. The PEM files are made with openssl in a folder of the
// test's own (deploy/local/kafka-tls.ts), plus a second CA whose key fits no certificate.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../../core/config.js';
import { ConfigError } from '../../../core/errors.js';
import { parseBrokerAddress } from '../../../core/kafka-settings.js';
import { createCertificateAuthority, ensureTlsMaterial } from '../../../deploy/local/kafka-tls.js';

const dir = mkdtempSync(join(tmpdir(), 'stackl-kafka-settings-'));
const tls = ensureTlsMaterial(join(dir, 'tls'));
const other = createCertificateAuthority(join(dir, 'other'), 'other', 'another CA');
const write = (name: string, text: string): string => {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
};
const passwordFile = write('password', 'from-a-file\n');
const notPem = write('not-pem', 'hello\n');
const encryptedKey = write('encrypted.key', '-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----\n');
const brokenCert = write('broken.pem', '-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n');
const missing = join(dir, 'missing.pem');

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('KAFKA_BROKERS', () => {
  it('takes host:port and bracketed IPv6 entries, kept as written', () => {
    expect(loadConfig({ KAFKA_BROKERS: '[::1]:9092, 127.0.0.1:9093,[fe80::1:2]:19092' }).kafkaBrokers).toEqual(['[::1]:9092', '127.0.0.1:9093', '[fe80::1:2]:19092']);
    expect(parseBrokerAddress('[::1]:9092')).toEqual({ host: '::1', port: 9092 });
    expect(parseBrokerAddress('kafka-1.example:9094')).toEqual({ host: 'kafka-1.example', port: 9094 });
  });

  it.each([
    ['::1:9092', /KAFKA_BROKERS entry "::1:9092" is not host:port \(write an IPv6 address in brackets: \[::1\]:9092\)/],
    ['[::1]', /KAFKA_BROKERS entry "\[::1\]" is not host:port/],
    ['[kafka]:9092', /brackets around something that is not an IPv6 address/],
    ['k:0', /KAFKA_BROKERS entry "k:0" is not host:port/],
    ['k:70000', /KAFKA_BROKERS entry "k:70000" is not host:port/],
  ])('refuses %s', (brokers, message) => {
    expect(() => loadConfig({ KAFKA_BROKERS: brokers })).toThrow(ConfigError);
    expect(() => loadConfig({ KAFKA_BROKERS: brokers })).toThrow(message);
  });
});

describe('Kafka security settings', () => {
  it('is empty (plaintext) by default', () => {
    expect(loadConfig({}).kafkaSecurity).toEqual({});
    expect(loadConfig({ KAFKA_SSL: 'false' }).kafkaSecurity).toEqual({});
  });

  it('reads TLS from PEM files: CA, client certificate and key, and whether to verify', () => {
    const { kafkaSecurity } = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: tls.ca.certFile,
      KAFKA_SSL_CERT_FILE: tls.clientCertFile,
      KAFKA_SSL_KEY_FILE: tls.clientKeyFile,
    });
    expect(kafkaSecurity.tls?.rejectUnauthorized).toBe(true);
    expect(kafkaSecurity.tls?.ca).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(kafkaSecurity.tls?.cert).toMatch(/^-----BEGIN CERTIFICATE-----/);
    expect(kafkaSecurity.tls?.key?.reveal()).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(loadConfig({ KAFKA_SSL: 'TRUE', KAFKA_SSL_REJECT_UNAUTHORIZED: 'false' }).kafkaSecurity.tls).toEqual({ rejectUnauthorized: false });
  });

  it.each(['plain', 'scram-sha-256', 'SCRAM-SHA-512'])('takes SASL mechanism %s with a user and a password', (mechanism) => {
    const { sasl } = loadConfig({ KAFKA_SASL_MECHANISM: mechanism, KAFKA_SASL_USERNAME: 'stackl', KAFKA_SASL_PASSWORD: 'pw' }).kafkaSecurity;
    expect(sasl).toMatchObject({ mechanism: mechanism.toLowerCase(), username: 'stackl' });
    expect(sasl?.password.reveal()).toBe('pw');
  });

  it('reads the password from a file, without the final newline', () => {
    const { sasl } = loadConfig({ KAFKA_SASL_MECHANISM: 'scram-sha-256', KAFKA_SASL_USERNAME: 'stackl', KAFKA_SASL_PASSWORD_FILE: passwordFile }).kafkaSecurity;
    expect(sasl?.password.reveal()).toBe('from-a-file');
  });

  it('never prints the password or the private key, however the configuration is printed', () => {
    const config = loadConfig({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CERT_FILE: tls.clientCertFile,
      KAFKA_SSL_KEY_FILE: tls.clientKeyFile,
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'stackl',
      KAFKA_SASL_PASSWORD: 'hunter2-secret',
    });
    const key = config.kafkaSecurity.tls?.key?.reveal() ?? '';
    const keyBody = key.split('\n')[1] ?? '';
    expect(keyBody.length).toBeGreaterThan(20);
    for (const printed of [JSON.stringify(config), inspect(config, { depth: 10 }), `${config.kafkaSecurity.sasl?.password}`, String(config.kafkaSecurity.tls?.key)]) {
      expect(printed).not.toContain('hunter2-secret');
      expect(printed).not.toContain(keyBody);
    }
    expect(JSON.stringify(config.kafkaSecurity.sasl)).toBe('{"mechanism":"scram-sha-512","username":"stackl","password":"[redacted]"}');
  });

  it.each([
    [{ KAFKA_SSL: 'yes' }, /KAFKA_SSL must be "true" or "false", got "yes"/],
    [{ KAFKA_SSL_CA_FILE: 'ca.pem' }, /KAFKA_SSL_CA_FILE is set but KAFKA_SSL is not "true"/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_REJECT_UNAUTHORIZED: 'no' }, /KAFKA_SSL_REJECT_UNAUTHORIZED must be "true" or "false"/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: missing }, /KAFKA_SSL_CA_FILE names a file that cannot be read: .*missing\.pem \(ENOENT\)/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: dir }, /KAFKA_SSL_CA_FILE names a file that cannot be read: .* \(EISDIR\)/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: notPem }, /KAFKA_SSL_CA_FILE \(.*not-pem\) holds no PEM certificate/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CA_FILE: brokenCert }, /KAFKA_SSL_CA_FILE \(.*broken\.pem\) holds a certificate that does not parse as X\.509/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: tls.clientCertFile }, /KAFKA_SSL_CERT_FILE and KAFKA_SSL_KEY_FILE go together .* only KAFKA_SSL_CERT_FILE is set/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_KEY_FILE: tls.clientKeyFile }, /only KAFKA_SSL_KEY_FILE is set/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: tls.clientCertFile, KAFKA_SSL_KEY_FILE: notPem }, /KAFKA_SSL_KEY_FILE \(.*\) holds no PEM private key/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: tls.clientCertFile, KAFKA_SSL_KEY_FILE: encryptedKey }, /KAFKA_SSL_KEY_FILE \(.*\) holds an encrypted private key/],
    [{ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: tls.clientCertFile, KAFKA_SSL_KEY_FILE: other.keyFile }, /KAFKA_SSL_KEY_FILE \(.*other\.key\) is not the key of the certificate in KAFKA_SSL_CERT_FILE/],
    [{ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_MECHANISM must be one of plain, scram-sha-256, scram-sha-512, got "gssapi"/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_MECHANISM is plain but KAFKA_SASL_USERNAME is not set/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u' }, /neither KAFKA_SASL_PASSWORD nor KAFKA_SASL_PASSWORD_FILE is set/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: '' }, /the SASL password \(KAFKA_SASL_PASSWORD\) is empty/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p', KAFKA_SASL_PASSWORD_FILE: passwordFile }, /KAFKA_SASL_PASSWORD and KAFKA_SASL_PASSWORD_FILE are both set/],
    [{ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD_FILE: missing }, /KAFKA_SASL_PASSWORD_FILE names a file that cannot be read: .*missing\.pem \(ENOENT\)/],
    [{ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' }, /KAFKA_SASL_USERNAME, KAFKA_SASL_PASSWORD are set but KAFKA_SASL_MECHANISM is not/],
  ])('refuses %o with a ConfigError naming the setting', (env, message) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(message);
  });

  it('never quotes a password in a refusal', () => {
    const refusal = (() => {
      try {
        loadConfig({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'hunter2-secret' });
      } catch (error) {
        return error as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(refusal.message).not.toContain('hunter2-secret');
    expect(JSON.stringify(refusal.details)).not.toContain('hunter2-secret');
  });
});
