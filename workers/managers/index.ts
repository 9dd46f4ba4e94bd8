// Managers by task kind. A kind the broker accepts but no worker manages would wait
// for its deadline and roll back: keep this table in step with processors/lifecycle/kinds.ts.
import type { AgentJobClient } from '../../channels/agent-channel.js';
import type { DocumentStore } from '../datastore/document-store.js';
import type { Manager } from '../manager.js';
import { createDocumentManager } from './document-manager.js';
import { probeManager } from './probe-manager.js';
import { createQueryManager } from './query-manager.js';
import { createSnapshotManager } from './snapshot-manager.js';
import { createStackManager } from './stack-manager.js';

export interface ManagerDependencies {
  /** The datastore; without it this worker takes no document, snapshot, query or stack tasks. */
  documentStore?: DocumentStore;
  /** The way to the agents; without it this worker takes no stack tasks. */
  agents?: AgentJobClient;
}

export function builtInManagers(dependencies: ManagerDependencies = {}): ReadonlyMap<string, Manager> {
  const managers = new Map<string, Manager>([['probe', probeManager]]);
  const { documentStore, agents } = dependencies;
  if (documentStore !== undefined) {
    managers.set('document', createDocumentManager(documentStore));
    managers.set('snapshot', createSnapshotManager(documentStore));
    managers.set('query', createQueryManager(documentStore));
    if (agents !== undefined) managers.set('stack', createStackManager(documentStore, agents));
  }
  return managers;
}
