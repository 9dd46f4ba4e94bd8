import { describe, expect, it } from 'vitest';
import { builtInKinds, createKindRegistry, payloadSchemaFor } from '../../../processors/lifecycle/kinds.js';
import { documentDeletePayloadSchema, documentKeySchema, documentWritePayloadSchema } from '../../../processors/lifecycle/kinds/document.js';
import { documentWrites } from '../../../workers/managers/document-manager.js';

const doc = (key: string, body: unknown = { a: 1 }) => ({ key, body });

describe('the document kind', () => {
  it('is a built-in kind with create, update and delete', () => {
    expect(builtInKinds.document?.actions).toEqual(['create', 'update', 'delete']);
    const registry = createKindRegistry();
    const definition = registry.get('document')!;
    expect(payloadSchemaFor(definition, 'create')).toBe(documentWritePayloadSchema);
    expect(payloadSchemaFor(definition, 'update')).toBe(documentWritePayloadSchema);
    expect(payloadSchemaFor(definition, 'delete')).toBe(documentDeletePayloadSchema);
    expect(payloadSchemaFor(definition, 'run')).toBeUndefined();
  });

  it.each(['app/config/main', 'a/b/c', 'env-1/stack_type/name.v2', '0/0/0', 'a/b/name-with.dots_and-dash'])('accepts the key %s', (key) => {
    expect(documentKeySchema.safeParse(key).success).toBe(true);
  });

  it.each(['', 'a/b', 'a/b/c/d', 'A/b/c', 'a/b/C', '-a/b/c', 'a/_b/c', 'a/b/.c', 'a//c', 'a/b.c/d', 'a/b/c ', ' a/b/c', 'a/b/é', `a/b/${'x'.repeat(600)}`])(
    'refuses the key %j',
    (key) => {
      expect(documentKeySchema.safeParse(key).success).toBe(false);
    },
  );

  it('accepts 1 to 50 documents whose bodies are JSON objects', () => {
    expect(documentWritePayloadSchema.safeParse({ documents: [doc('a/b/c', { nested: { list: [1, 'x', null, true] } })] }).success).toBe(true);
    expect(documentWritePayloadSchema.safeParse({ documents: [doc('a/b/c', {})] }).success).toBe(true);
    expect(documentWritePayloadSchema.safeParse({ documents: Array.from({ length: 50 }, (_, i) => doc(`a/b/d${i}`)) }).success).toBe(true);
  });

  it.each([
    ['no documents', { documents: [] }],
    ['51 documents', { documents: Array.from({ length: 51 }, (_, i) => doc(`a/b/d${i}`)) }],
    ['a body that is an array', { documents: [doc('a/b/c', [1, 2])] }],
    ['a body that is a string', { documents: [doc('a/b/c', 'text')] }],
    ['a body that is null', { documents: [doc('a/b/c', null)] }],
    ['a document without a body', { documents: [{ key: 'a/b/c' }] }],
    ['an extra field on a document', { documents: [{ key: 'a/b/c', body: {}, version: 2 }] }],
    ['an extra field on the payload', { documents: [doc('a/b/c')], force: true }],
    ['a bad key', { documents: [doc('a/b')] }],
    ['keys instead of documents', { keys: ['a/b/c'] }],
  ])('refuses a create/update payload with %s', (_name, payload) => {
    expect(documentWritePayloadSchema.safeParse(payload).success).toBe(false);
  });

  it('accepts 1 to 50 keys to delete and refuses anything else', () => {
    expect(documentDeletePayloadSchema.safeParse({ keys: ['a/b/c'] }).success).toBe(true);
    expect(documentDeletePayloadSchema.safeParse({ keys: Array.from({ length: 50 }, (_, i) => `a/b/d${i}`) }).success).toBe(true);
    expect(documentDeletePayloadSchema.safeParse({ keys: [] }).success).toBe(false);
    expect(documentDeletePayloadSchema.safeParse({ keys: Array.from({ length: 51 }, (_, i) => `a/b/d${i}`) }).success).toBe(false);
    expect(documentDeletePayloadSchema.safeParse({ keys: ['a/b'] }).success).toBe(false);
    expect(documentDeletePayloadSchema.safeParse({ keys: ['a/b/c'], extra: 1 }).success).toBe(false);
    expect(documentDeletePayloadSchema.safeParse({ documents: [doc('a/b/c')] }).success).toBe(false);
  });

  it('turns a task into its writes, in order', () => {
    expect(documentWrites({ action: 'create', payload: JSON.stringify({ documents: [doc('a/b/x', { n: 1 }), doc('a/b/y', { n: 2 })] }) })).toEqual([
      { op: 'create', key: 'a/b/x', body: { n: 1 } },
      { op: 'create', key: 'a/b/y', body: { n: 2 } },
    ]);
    expect(documentWrites({ action: 'update', payload: JSON.stringify({ documents: [doc('a/b/x', { n: 3 })] }) })).toEqual([{ op: 'update', key: 'a/b/x', body: { n: 3 } }]);
    expect(documentWrites({ action: 'delete', payload: JSON.stringify({ keys: ['a/b/y', 'a/b/x'] }) })).toEqual([
      { op: 'delete', key: 'a/b/y' },
      { op: 'delete', key: 'a/b/x' },
    ]);
    expect(() => documentWrites({ action: 'move', payload: '{}' })).toThrow(/no action "move"/);
    expect(() => documentWrites({ action: 'delete', payload: JSON.stringify({ keys: [] }) })).toThrow();
  });
});
