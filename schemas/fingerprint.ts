// CRC-64-AVRO, the 64-bit Rabin fingerprint the Avro specification defines for schemas
// ("Schema Fingerprints"); single-object encoding writes it little-endian after 0xC3 0x01.
// avsc's Type#fingerprint() is an MD5 (or any node:crypto hash) of its own canonical string,
// which is not what other Avro implementations put in the header, so we compute it here.

const EMPTY = 0xc15d213aa4d7a795n;
const MASK = 0xffffffffffffffffn;

const TABLE: readonly bigint[] = Array.from({ length: 256 }, (_, i) => {
  let fp = BigInt(i);
  for (let bit = 0; bit < 8; bit += 1) fp = (fp >> 1n) ^ (EMPTY & -(fp & 1n) & MASK);
  return fp;
});

/** The fingerprint as an unsigned 64-bit integer (Java's SchemaNormalization gives it signed). */
export function crc64Avro(bytes: Uint8Array): bigint {
  let fp = EMPTY;
  for (const byte of bytes) fp = (fp >> 8n) ^ (TABLE[Number((fp ^ BigInt(byte)) & 0xffn)] ?? 0n);
  return fp;
}

/** The 8 fingerprint bytes as single-object encoding writes them (little-endian). */
export function schemaFingerprint(canonicalForm: string): Buffer {
  const out = Buffer.alloc(8);
  out.writeBigUInt64LE(crc64Avro(Buffer.from(canonicalForm, 'utf8')));
  return out;
}
