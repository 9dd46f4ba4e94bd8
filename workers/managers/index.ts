// Managers by task kind. A kind the broker accepts but no worker manages would wait
// for its deadline and roll back: keep this table in step with processors/lifecycle/kinds.ts.
import type { Manager } from '../manager.js';
import { probeManager } from './probe-manager.js';

export function builtInManagers(): ReadonlyMap<string, Manager> {
  return new Map<string, Manager>([['probe', probeManager]]);
}
