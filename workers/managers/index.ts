// The built-in kinds with their handlers: what the built-in worker serves. A kind the
// broker accepts but no worker serves waits for its deadline and rolls back.
import type { AgentJobClient } from '../../channels/agent-channel.js';
import type { DocumentStore } from '../datastore/document-store.js';
import type { Manager } from '../manager.js';
import type { ServedKind } from '../implement.js';
import { builtInKinds, type NamedKind } from '../../processors/lifecycle/index.js';
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

export function builtInServedKinds(dependencies: ManagerDependencies = {}): ServedKind[] {
  return [...builtInManagers(dependencies)].map(([name, manager]) => ({ kind: namedBuiltIn(name), manager }));
}

function namedBuiltIn(name: string): NamedKind {
  const kind = builtInKinds[name];
  if (kind === undefined) throw new Error(`no built-in kind "${name}"`);
  return { ...kind, name };
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
