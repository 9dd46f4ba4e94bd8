// Certificates for a local TLS listener, made with openssl on the fly: a certificate
// authority, a broker certificate it signs for every loopback name (127.0.0.1, ::1,
// localhost, so clients verify the host as they would in production), and a client
// certificate for mutual TLS. All PEM, which both Kafka (ssl.keystore.type=PEM) and
// Node read directly; EC P-256 keys, because they are made in milliseconds.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { ServiceUnavailableError } from '../../core/errors.js';

export interface CertificateAuthority {
  certFile: string;
  keyFile: string;
}

export interface TlsMaterial {
  ca: CertificateAuthority;
  /** The broker's key followed by its certificate: Kafka's PEM keystore. */
  brokerKeystoreFile: string;
  clientCertFile: string;
  clientKeyFile: string;
}

const VALID_DAYS = 365;
const LOOPBACK_NAMES = 'IP:127.0.0.1,IP:::1,DNS:localhost';

/** Makes the material in `dir` once; reuses it while every certificate has a day left. */
export function ensureTlsMaterial(dir: string): TlsMaterial {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const material: TlsMaterial = {
    ca: { certFile: join(dir, 'ca.pem'), keyFile: join(dir, 'ca.key') },
    brokerKeystoreFile: join(dir, 'broker-keystore.pem'),
    clientCertFile: join(dir, 'client.pem'),
    clientKeyFile: join(dir, 'client.key'),
  };
  if ([material.ca.certFile, material.brokerKeystoreFile, material.clientCertFile].every(stillValid)) return material;
  const ca = createCertificateAuthority(dir, 'ca', 'STACKL local CA');
  const broker = issue(dir, ca, 'broker', 'localhost', `subjectAltName=${LOOPBACK_NAMES}\nextendedKeyUsage=serverAuth,clientAuth\n`);
  writeSecret(material.brokerKeystoreFile, `${readFileSync(broker.keyFile, 'utf8')}${readFileSync(broker.certFile, 'utf8')}`);
  issue(dir, ca, 'client', 'stackl-client', 'extendedKeyUsage=clientAuth\n');
  return material;
}

/** A self-signed authority; tests make a second one to stand for a CA the client must not trust. */
export function createCertificateAuthority(dir: string, name: string, commonName: string): CertificateAuthority {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const ca = { certFile: join(dir, `${name}.pem`), keyFile: join(dir, `${name}.key`) };
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', ca.keyFile]);
  chmodSync(ca.keyFile, 0o600);
  openssl([
    'req', '-x509', '-new', '-key', ca.keyFile, '-out', ca.certFile, '-days', String(VALID_DAYS), '-subj', `/CN=${commonName}`,
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign',
  ]);
  return ca;
}

/** A key (PKCS#8, unencrypted: Kafka's PEM keystore then needs no key password) and a certificate signed by `ca`. */
function issue(dir: string, ca: CertificateAuthority, name: string, commonName: string, extensions: string): { certFile: string; keyFile: string } {
  const keyFile = join(dir, `${name}.key`);
  const certFile = join(dir, `${name}.pem`);
  const csrFile = join(dir, `${name}.csr`);
  const extFile = join(dir, `${name}.ext`);
  openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', keyFile]);
  chmodSync(keyFile, 0o600);
  openssl(['req', '-new', '-key', keyFile, '-out', csrFile, '-subj', `/CN=${commonName}`]);
  writeFileSync(extFile, `basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature,keyAgreement\n${extensions}`);
  openssl(['x509', '-req', '-in', csrFile, '-CA', ca.certFile, '-CAkey', ca.keyFile, '-set_serial', `0x${randomSerial()}`, '-days', String(VALID_DAYS), '-extfile', extFile, '-out', certFile]);
  for (const scratch of [csrFile, extFile]) rmSync(scratch, { force: true });
  return { certFile, keyFile };
}

function stillValid(file: string): boolean {
  if (!existsSync(file)) return false;
  try {
    return Date.parse(new X509Certificate(readFileSync(file)).validTo) - Date.now() > 24 * 3_600_000;
  } catch {
    return false;
  }
}

function writeSecret(file: string, text: string): void {
  writeFileSync(file, text, { mode: 0o600 });
  chmodSync(file, 0o600);
}

function randomSerial(): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(12))).toString('hex');
}

function openssl(args: string[]): void {
  const result = spawnSync('openssl', args, { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    const why = result.error?.message ?? result.stderr.trim().split('\n').slice(-3).join(' ');
    throw new ServiceUnavailableError('openssl', `openssl ${args[0]} failed (is openssl installed?): ${why}`);
  }
}
