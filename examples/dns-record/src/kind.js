// @ts-check
// The kind as STACKL knows it: name, actions, payload shapes, rollback and defaults. The
// worker registers it when it starts; from then on the broker and the REST API accept
// dns-record tasks, and refuse a payload that does not fit these schemas (naming the field).
import { defineKind } from 'stackl';
import { z } from 'zod';

// Lower-case DNS labels separated by dots. A zone name is also a file name: this leaves
// no room for "/" or "..".
const LABELS = '[a-z0-9_-]+(\\.[a-z0-9_-]+)*';

/** Which records a task is about: those of `name` and `type` in `zone`. */
const recordSet = {
  zone: z.string().max(253).regex(new RegExp(`^${LABELS}$`), 'expected a zone such as example.com'),
  name: z.string().max(253).regex(new RegExp(`^(@|${LABELS})$`), 'expected @ or a name such as www'),
  type: z.enum(['A', 'AAAA', 'CNAME']),
};

/**
 * Two knobs to watch failures being undone (tests use them too): wait after writing, to
 * cancel the task meanwhile or let it time out; or fail after writing.
 */
const tryFailures = {
  holdMs: z.number().int().min(0).max(600_000).optional(),
  failAfterWrite: z.boolean().optional(),
};

export const dnsRecord = defineKind({
  name: 'dns-record',
  version: 1,
  description: 'a DNS record in a zone file (upsert or remove); a failed task leaves the zone as it found it',
  actions: ['upsert', 'remove'],
  payload: {
    // Upsert makes `value` the only record of its name and type (like a provider's UPSERT).
    upsert: z.strictObject({ ...recordSet, value: z.string().min(1).max(253), ttl: z.number().int().min(1).max(604_800).optional(), ...tryFailures }),
    remove: z.strictObject({ ...recordSet, ...tryFailures }),
  },
  // 'compensate': when a task fails, STACKL asks this kind's worker to undo it (handlers.js, rollback).
  rollback: 'compensate',
  // Where a submission says nothing: 30 s for the whole task, and up to 3 attempts when a
  // failure may pass (a conflict is not retried, see handlers.js).
  defaults: { timeoutMs: 30_000, maxAttempts: 3 },
});
