// The kinds one reader holds: the built-in ones, which ship with this code, and the
// records read from the registry (a topic for the Kafka broker, a table for the custom
// broker), applied in order. A record that is not valid, or that changes a kind
// incompatibly, is logged and ignored: registrars refuse those, and one written around
// them must not change what brokers accept.
import { createLogger } from '../../core/log.js';
import { builtInKinds, type KindDefinition } from '../lifecycle/index.js';
import { compatibilityProblems } from './kind-compatibility.js';
import { definitionOf, parseKindRecord, type KindRecord } from './kind-record.js';

/** A registry as its readers see it: the kinds, their records, and a way to catch up. */
export interface KindView {
  /** Kind name → definition, kept current: hand it to the decider as its registry. */
  readonly kinds: ReadonlyMap<string, KindDefinition>;
  /** The registered record of a kind (null for a built-in or unknown kind). */
  record(name: string): KindRecord | null;
  /** Reads what was registered before `writtenAt`, then says whether `kind` is known; never throws. */
  knows(kind: string, writtenAt?: number): Promise<boolean>;
  /** Reads the registry up to its end as of this call. */
  catchUp(): Promise<void>;
  stop(): Promise<void>;
}

export class KindBook {
  readonly kinds = new Map<string, KindDefinition>();
  private readonly records = new Map<string, KindRecord>();
  private readonly builtIns: ReadonlySet<string>;
  private readonly log = createLogger({ component: 'kind-registry' });

  constructor(builtIns: Readonly<Record<string, KindDefinition>> = builtInKinds) {
    for (const [name, definition] of Object.entries(builtIns)) this.kinds.set(name, definition);
    this.builtIns = new Set(Object.keys(builtIns));
  }

  record(name: string): KindRecord | null {
    return this.records.get(name) ?? null;
  }

  /** Applies one registry entry; `where` says where it was read, for the log. */
  apply(key: string, value: Buffer | null, where: Record<string, unknown>): void {
    if (this.builtIns.has(key)) return; // this code defines it; a worker's copy only describes it
    if (value === null) {
      // A tombstone: the kind is withdrawn; tasks already accepted run on.
      this.records.delete(key);
      this.kinds.delete(key);
      this.log.info('kind withdrawn from the registry', { kind: key, ...where });
      return;
    }
    const parsed = parseKindRecord(value);
    if (!parsed.ok) {
      this.log.warn('ignoring a kind record that is not valid', { kind: key, ...where, problem: parsed.problem });
      return;
    }
    const { record } = parsed;
    if (record.name !== key) {
      this.log.warn('ignoring a kind record whose key is not its name', { key, name: record.name, ...where });
      return;
    }
    const previous = this.records.get(key);
    if (previous !== undefined && JSON.stringify(previous) === JSON.stringify(record)) return; // read again, unchanged
    const problems = previous === undefined ? [] : compatibilityProblems(previous, record);
    if (problems.length > 0) {
      // Registrars refuse these; a record written around them must not change what was accepted.
      this.log.warn('ignoring an incompatible change of a kind', { kind: key, ...where, problems });
      return;
    }
    try {
      this.kinds.set(key, definitionOf(record));
      this.records.set(key, record);
    } catch (error) {
      this.log.warn('ignoring a kind record whose schemas cannot be used', { kind: key, ...where, error });
    }
  }
}
