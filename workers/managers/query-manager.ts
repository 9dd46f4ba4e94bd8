// The `query` kind: reads documents as the task asks and returns them as its output.
// It changes nothing, so it reports no start of its own and its rollback has nothing to
// undo. A query is cut off after QUERY_TIMEOUT_MS (or at its deadline, if sooner); a
// result larger than the worker may report fails the attempt, saying so.
import { isStacklError } from '../../core/errors.js';
import { queryKind, type QueryPayload } from '../../processors/lifecycle/kinds/query.js';
import { querySql, valueAt } from '../datastore/document-query.js';
import type { DocumentStore } from '../datastore/document-store.js';
import { implement, type ServedKind } from '../implement.js';
import { TaskFailure } from '../task-failure.js';

export const QUERY_TIMEOUT_MS = 10_000;

interface Row {
  key: string;
  version: number;
  updated_at: Date;
  body: Record<string, unknown>;
}

function shaped(row: Row, query: QueryPayload): Record<string, unknown> {
  const body = query.fields === undefined ? row.body : Object.fromEntries(query.fields.map((f) => [f, valueAt(row.body, f) ?? null]));
  return { key: row.key, version: row.version, updatedAt: row.updated_at.toISOString(), [query.fields === undefined ? 'body' : 'fields']: body };
}

export function createQueryKind(store: DocumentStore): ServedKind {
  return implement(queryKind, {
    startReport: 'before-change',
    async run(query, { deadlineAt }) {
      let rows: Row[];
      try {
        rows = await store.readOnly<Row>((table) => querySql(table, query), Math.min(QUERY_TIMEOUT_MS, deadlineAt - Date.now()));
      } catch (error) {
        // 57014: PostgreSQL cancelled the statement at its timeout; asking again would time out again.
        if ((error as { code?: string }).code === '57014') throw new TaskFailure(`the query took longer than ${QUERY_TIMEOUT_MS} ms and was cancelled; narrow it`, { retriable: false });
        if (isStacklError(error) && !error.retriable) throw new TaskFailure(error.message, { retriable: false });
        throw error;
      }
      const more = rows.length > query.limit;
      const page = rows.slice(0, query.limit).map((r) => shaped(r, query));
      return { rows: page, count: page.length, more };
    },
    // A query writes nothing: there is nothing to undo.
    async rollback() {},
  });
}
