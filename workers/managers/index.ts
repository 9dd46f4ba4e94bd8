// The built-in kinds with their handlers: what the built-in worker serves. A kind the
// broker accepts but no worker serves waits for its deadline and rolls back.
import type { AgentJobClient } from '../../channels/agent-channel.js';
import type { DocumentStore } from '../datastore/document-store.js';
import type { Manager } from '../manager.js';
import type { ServedKind } from '../implement.js';
import { createDocumentKind } from './document-manager.js';
import { probeServed } from './probe-manager.js';
import { createQueryKind } from './query-manager.js';
import { createSnapshotKind } from './snapshot-manager.js';
import { createStackKind } from './stack-manager.js';

export interface ManagerDependencies {
  /** The datastore; without it this worker takes no document, snapshot, query or stack tasks. */
  documentStore?: DocumentStore;
  /** The way to the agents; without it this worker takes no stack tasks. */
  agents?: AgentJobClient;
}

export function builtInServedKinds(dependencies: ManagerDependencies = {}): ServedKind[] {
  const served: ServedKind[] = [probeServed];
  const { documentStore, agents } = dependencies;
  if (documentStore !== undefined) {
    served.push(createDocumentKind(documentStore), createSnapshotKind(documentStore), createQueryKind(documentStore));
    if (agents !== undefined) served.push(createStackKind(documentStore, agents));
  }
  return served;
}

/** The built-in kinds' managers by kind name, for tests that drive a Worker directly. */
export function builtInManagers(dependencies: ManagerDependencies = {}): ReadonlyMap<string, Manager> {
  return new Map(builtInServedKinds(dependencies).map((s) => [s.kind.name, s.manager]));
}
