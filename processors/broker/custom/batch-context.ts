// The lifecycle processor's ProcessContext for the `custom` broker: what the Kafka runtime
// gives it (its partition's table, outputs, the clock), over rows of PostgreSQL read at the
// start of one transaction. Each input is staged on its own, so an input that fails is
// discarded alone while the others of the batch commit; what all of them wrote is then
// written in that one transaction (custom-partition.ts).
import type { TaskState } from '../../lifecycle/index.js';
import type { OutputRecord, ProcessContext } from '../../runtime/types.js';

/** A task's row as the batch read it: its state, or that its id is retired (spent) until a time. */
export interface StoredTask {
  state: TaskState | undefined;
  retiredUntil: number | undefined;
}

/** What one input changed: new states (undefined: deleted), retirements, outputs. */
interface Stage {
  states: Map<string, TaskState | undefined>;
  retiring: Set<string>;
  outputs: OutputRecord[];
}

const emptyStage = (): Stage => ({ states: new Map(), retiring: new Set(), outputs: [] });

export class BatchContext implements ProcessContext<TaskState> {
  readonly refusal = undefined;
  private stage = emptyStage();
  /** What the inputs decided so far committed into this batch: the writes of the transaction. */
  readonly states = new Map<string, TaskState | undefined>();
  readonly retiring = new Set<string>();
  readonly outputs: OutputRecord[] = [];

  constructor(
    readonly partition: number,
    readonly now: number,
    private readonly stored: Map<string, StoredTask>,
  ) {}

  get(key: string): TaskState | undefined {
    if (this.stage.states.has(key)) return this.stage.states.get(key);
    if (this.states.has(key)) return this.states.get(key);
    return this.stored.get(key)?.state;
  }

  put(key: string, value: TaskState): void {
    this.stage.states.set(key, value);
    this.stage.retiring.delete(key);
  }

  delete(key: string): void {
    this.stage.states.set(key, undefined);
  }

  retire(key: string): void {
    this.stage.states.set(key, undefined);
    this.stage.retiring.add(key);
  }

  isRetired(key: string): boolean {
    if (this.stage.retiring.has(key) || this.retiring.has(key)) return true;
    if (this.stage.states.has(key) || this.states.has(key)) return false;
    const retiredUntil = this.stored.get(key)?.retiredUntil;
    return retiredUntil !== undefined && retiredUntil > this.now;
  }

  send(record: OutputRecord): void {
    this.stage.outputs.push(record);
  }

  /** The input just handled stands: its writes join the batch's. */
  keep(): void {
    for (const [key, state] of this.stage.states) {
      this.states.set(key, state);
      if (state !== undefined) this.retiring.delete(key);
    }
    for (const key of this.stage.retiring) this.retiring.add(key);
    this.outputs.push(...this.stage.outputs);
    this.stage = emptyStage();
  }

  /** The input just handled failed: nothing it wrote stays. */
  discard(): void {
    this.stage = emptyStage();
  }
}
