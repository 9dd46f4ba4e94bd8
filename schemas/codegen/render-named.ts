// TypeScript for the named Avro types: an interface per record, a string-literal union per
// enum, `T | null` for ["null", T], number for int/long/float/double.
import avro from 'avsc';
import type { Type, types } from 'avsc';

const BASE_NAMESPACE = 'stackl.v1.';

/** stackl.v1.TaskSpec → TaskSpec; stackl.v1.result.AttemptStarted → ResultAttemptStarted. */
export function tsName(fullName: string): string {
  if (!fullName.startsWith(BASE_NAMESPACE)) throw new Error(`${fullName} is outside namespace stackl.v1`);
  return fullName
    .slice(BASE_NAMESPACE.length)
    .split('.')
    .map((part) => part.charAt(0).toUpperCase() + part.slice(1))
    .join('');
}

export function shortName(fullName: string): string {
  return fullName.slice(fullName.lastIndexOf('.') + 1);
}

export function docComment(doc: string | undefined, indent: string): string {
  return doc === undefined ? '' : `${indent}/** ${doc.replace(/\*\//g, '* /')} */\n`;
}

export function tsType(type: Type): string {
  switch (type.typeName) {
    case 'null':
    case 'boolean':
    case 'string':
      return type.typeName;
    case 'int':
    case 'long':
    case 'float':
    case 'double':
      return 'number';
    case 'bytes':
    case 'fixed':
      return 'Buffer';
    case 'record':
    case 'enum':
      return tsName(type.name ?? '');
    case 'array':
      return `Array<${tsType((type as types.ArrayType).itemsType)}>`;
    case 'map':
      return `Record<string, ${tsType((type as types.MapType).valuesType as Type)}>`;
    case 'union:unwrapped':
      // `T | null` reads better than `null | T`; the branch order on the wire is unaffected.
      return (type as types.UnwrappedUnionType).types
        .map(tsType)
        .sort((a, b) => Number(a === 'null') - Number(b === 'null'))
        .join(' | ');
    default:
      // A wrapped union (several records) is only supported as an envelope body.
      throw new Error(`cannot render ${type.typeName} ${type.name ?? ''} as a TypeScript type`);
  }
}

/** One interface member, with the field's doc. */
export function renderField(field: types.Field): string {
  return `${docComment((field as { doc?: string }).doc, '  ')}  ${field.name}: ${tsType(field.type)};\n`;
}

export function renderNamed(type: Type): string {
  const name = tsName(type.name ?? '');
  if (type.typeName === 'enum') {
    const symbols = (type as types.EnumType).symbols.map((s) => `'${s}'`).join(' | ');
    return `${docComment(type.doc, '')}export type ${name} = ${symbols};\n`;
  }
  const record = type as types.RecordType;
  if (record.fields.length === 0) {
    // `{}` would accept any value; an empty record decodes to an empty object.
    return `${docComment(type.doc, '')}export type ${name} = Record<string, never>;\n`;
  }
  return `${docComment(type.doc, '')}export interface ${name} {\n${record.fields.map(renderField).join('')}}\n`;
}

/** Named types reachable from `type`, parents before children, each once. */
export function collectNamed(type: Type, seen: Set<string>, out: Type[]): void {
  if (type.name !== undefined) {
    if (seen.has(type.name)) return;
    seen.add(type.name);
    out.push(type);
  }
  if (avro.Type.isType(type, 'record')) {
    for (const field of (type as types.RecordType).fields) collectNamed(field.type, seen, out);
  } else if (avro.Type.isType(type, 'union')) {
    for (const branch of (type as types.UnwrappedUnionType).types) collectNamed(branch, seen, out);
  } else if (avro.Type.isType(type, 'array')) {
    collectNamed((type as types.ArrayType).itemsType, seen, out);
  } else if (avro.Type.isType(type, 'map')) {
    collectNamed((type as types.MapType).valuesType as Type, seen, out);
  }
}
