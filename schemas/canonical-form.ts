// Parsing Canonical Form of an Avro schema (Avro specification, "Schema Resolution" →
// "Parsing Canonical Form for Schemas"): the schema reduced to what matters for reading data,
// so two schemas that read the same bytes have the same text, and therefore the same fingerprint.
// Written here rather than taken from avsc so the fingerprint follows the spec, not a library.

const PRIMITIVES = new Set(['null', 'boolean', 'int', 'long', 'float', 'double', 'bytes', 'string']);
const NAMED = new Set(['record', 'error', 'enum', 'fixed']);

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function fullName(name: unknown, namespace: string): string {
  if (typeof name !== 'string' || name === '') throw new Error(`invalid Avro name: ${JSON.stringify(name)}`);
  return name.includes('.') || namespace === '' ? name : `${namespace}.${name}`;
}

function namespaceOf(name: string): string {
  const dot = name.lastIndexOf('.');
  return dot < 0 ? '' : name.slice(0, dot);
}

function write(schema: unknown, namespace: string, defined: Set<string>): string {
  if (typeof schema === 'string') {
    // [PRIMITIVES] stay bare; [FULLNAMES] every reference to a named type is qualified.
    return JSON.stringify(PRIMITIVES.has(schema) ? schema : fullName(schema, namespace));
  }
  if (Array.isArray(schema)) return `[${schema.map((branch) => write(branch, namespace, defined)).join(',')}]`;
  if (!isObject(schema)) throw new Error(`invalid Avro schema: ${JSON.stringify(schema)}`);
  const type = schema.type;
  if (typeof type === 'string' && NAMED.has(type)) {
    // A name's own namespace attribute applies only when the name is not already qualified.
    const ns = typeof schema.namespace === 'string' ? schema.namespace : namespace;
    const name = fullName(schema.name, ns);
    if (defined.has(name)) return JSON.stringify(name);
    defined.add(name);
    // [ORDER] name, type, then fields / symbols / size; [STRIP] every other attribute.
    const head = `{"name":${JSON.stringify(name)},"type":${JSON.stringify(type === 'error' ? 'record' : type)}`;
    if (type === 'enum') return `${head},"symbols":${JSON.stringify(schema.symbols)}}`;
    if (type === 'fixed') return `${head},"size":${Number(schema.size)}}`;
    if (!Array.isArray(schema.fields)) throw new Error(`record ${name} has no fields array`);
    const inner = namespaceOf(name);
    const fields = schema.fields.map((field: unknown) => {
      if (!isObject(field)) throw new Error(`record ${name} has an invalid field`);
      return `{"name":${JSON.stringify(field.name)},"type":${write(field.type, inner, defined)}}`;
    });
    return `${head},"fields":[${fields.join(',')}]}`;
  }
  if (type === 'array') return `{"type":"array","items":${write(schema.items, namespace, defined)}}`;
  if (type === 'map') return `{"type":"map","values":${write(schema.values, namespace, defined)}}`;
  // {"type": "long", "logicalType": ...} and the like: only the underlying type counts.
  return write(type, namespace, defined);
}

/** The Parsing Canonical Form of a schema given as JSON (object, array or string). */
export function parsingCanonicalForm(schema: unknown): string {
  return write(schema, '', new Set());
}
