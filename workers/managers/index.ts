// Managers by task kind. A kind the broker accepts but no worker manages would wait
// for its deadline and roll back: keep this table in step with processors/lifecycle/kinds.ts.
import type { DocumentStore } from '../datastore/document-store.js';
import type { Manager } from '../manager.js';
import { createDocumentManager } from './document-manager.js';
import { probeManager } from './probe-manager.js';

export interface ManagerDependencies {
  /** The datastore of the `document` kind; without it this worker does not take document tasks. */
  documentStore?: DocumentStore;
}

export function builtInManagers(dependencies: ManagerDependencies = {}): ReadonlyMap<string, Manager> {
  const managers = new Map<string, Manager>([['probe', probeManager]]);
  if (dependencies.documentStore !== undefined) managers.set('document', createDocumentManager(dependencies.documentStore));
  return managers;
}
