// The `snapshot` kind: `create` copies every document under a prefix into one snapshot
// document; `restore` writes them back and deletes what was created under the prefix
// since. Every write is an ordinary fenced datastore write, so the rollback is the
// datastore's own: every key the task touched goes back to its state before the task.
import { isStacklError } from '../../core/errors.js';
import { snapshotCreatePayloadSchema, snapshotKind, snapshotRestorePayloadSchema } from '../../processors/lifecycle/kinds/snapshot.js';
import type { DocumentBody, DocumentStore, DocumentWrite } from '../datastore/document-store.js';
import { implement, type ServedKind } from '../implement.js';
import { TaskFailure } from '../task-failure.js';

export const SNAPSHOT_PREFIX = 'snapshot/documents/';

interface SnapshotBody {
  prefix: string;
  documents: { key: string; body: DocumentBody }[];
}

export function createSnapshotKind(store: DocumentStore): ServedKind {
  async function writes(action: string, payload: unknown): Promise<DocumentWrite[] | string> {
    if (action === 'create') {
      const { name, prefix } = snapshotCreatePayloadSchema.parse(payload);
      const documents = (await store.list(prefix)).map((d) => ({ key: d.key, body: d.body }));
      return [{ op: 'create', key: `${SNAPSHOT_PREFIX}${name}`, body: { prefix, documents } satisfies SnapshotBody }];
    }
    if (action === 'restore') {
      const { name } = snapshotRestorePayloadSchema.parse(payload);
      const snapshot = await store.get(`${SNAPSHOT_PREFIX}${name}`);
      if (snapshot === undefined) return `snapshot "${name}" does not exist`;
      const { prefix, documents } = snapshot.body as unknown as SnapshotBody;
      const kept = new Set(documents.map((d) => d.key));
      // Keys an earlier attempt of this task deleted are gone from the listing: nothing to redo.
      const extra = (await store.list(prefix)).filter((d) => !kept.has(d.key));
      return [...documents.map((d): DocumentWrite => ({ op: 'put', key: d.key, body: d.body })), ...extra.map((d): DocumentWrite => ({ op: 'delete', key: d.key }))];
    }
    return `the snapshot kind has no action "${action}"`;
  }

  return implement(snapshotKind, {
    async run(payload, { task, attempt, signal }) {
      const planned = await writes(task.action, payload);
      if (typeof planned === 'string') throw new TaskFailure(planned, { retriable: false });
      for (const write of planned) {
        signal.throwIfAborted();
        try {
          await store.write({ taskId: task.id, attempt }, write);
        } catch (error) {
          if (isStacklError(error) && !error.retriable) throw new TaskFailure(`${write.op} of "${write.key}" failed: ${error.message} (${error.code})`, { retriable: false });
          throw error;
        }
      }
      const [first] = planned;
      if (task.action === 'create' && first?.op === 'create') return { snapshot: first.key, documents: (first.body as unknown as SnapshotBody).documents.length };
      return { put: planned.filter((w) => w.op === 'put').length, deleted: planned.filter((w) => w.op === 'delete').length };
    },
    async rollback(_payload, { taskId, failedAttempt }) {
      await store.rollback(taskId, failedAttempt);
    },
  });
}
