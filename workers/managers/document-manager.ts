// The `document` kind: applies the task's documents in order, each in its own fenced
// write (a failure mid-way leaves the earlier writes behind; the rollback undoes them).
// Create on an existing key, or update/delete of a missing one, fails the task for good.
// Written with implement(), like users' kinds.
import { isStacklError } from '../../core/errors.js';
import { documentDeletePayloadSchema, documentWritePayloadSchema } from '../../processors/lifecycle/kinds/document.js';
import type { TaskSpec } from '../../schemas/index.js';
import type { DocumentStore, DocumentWrite } from '../datastore/document-store.js';
import { documentKind } from '../../processors/lifecycle/kinds/document.js';
import { implement, type ServedKind } from '../implement.js';
import { TaskFailure } from '../task-failure.js';

/** The writes a document task asks for, in order; throws when the payload does not fit its action. */
export function documentWrites(task: Pick<TaskSpec, 'action' | 'payload'>): DocumentWrite[] {
  const payload: unknown = JSON.parse(task.payload);
  switch (task.action) {
    case 'create':
    case 'update': {
      const op = task.action;
      return documentWritePayloadSchema.parse(payload).documents.map((d) => ({ op, key: d.key, body: d.body }));
    }
    case 'delete':
      return documentDeletePayloadSchema.parse(payload).keys.map((key) => ({ op: 'delete' as const, key }));
    default:
      throw new Error(`the document kind has no action "${task.action}"`);
  }
}

export function createDocumentKind(store: DocumentStore): ServedKind {
  return implement(documentKind, {
    // Reads and checks the payload first; its start is reported just before the first write.
    startReport: 'before-change',
    async run(_payload, { task, attempt, signal, beforeChange }) {
      let writes: DocumentWrite[];
      try {
        writes = documentWrites(task);
      } catch (error) {
        throw new TaskFailure(`invalid document task: ${error instanceof Error ? error.message : String(error)}`, { retriable: false });
      }
      const keys: string[] = [];
      const versions: (number | null)[] = [];
      await beforeChange();
      for (const write of writes) {
        signal.throwIfAborted();
        try {
          const result = await store.write({ taskId: task.id, attempt }, write);
          keys.push(result.key);
          versions.push(result.version);
        } catch (error) {
          // Conflicts and fencing cannot succeed on retry; anything else (the database away) may.
          if (isStacklError(error) && !error.retriable) throw new TaskFailure(`${write.op} of "${write.key}" failed: ${error.message} (${error.code})`, { retriable: false });
          throw error;
        }
      }
      return { keys, versions };
    },
    async rollback(_payload, { taskId, failedAttempt }) {
      await store.rollback(taskId, failedAttempt);
    },
  });
}
