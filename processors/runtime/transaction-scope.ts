// What one transaction accumulates before it commits: staged table writes and output
// records. Each record (or due deadline) is processed in a child scope that is merged
// only when the processor returns, so a record that fails leaves nothing staged.
import type { Staged, PartitionTable } from './table.js';
import type { OutputRecord, ProcessContext } from './types.js';

export class TransactionScope<V> {
  readonly staged: Staged<V> = new Map();
  /** Keys retired by this transaction (their staged value is a delete). */
  readonly retiring = new Set<string>();
  readonly outputs: OutputRecord[] = [];

  constructor(
    private readonly table: PartitionTable<V>,
    readonly partition: number,
    readonly now: number,
  ) {}

  read(key: string): V | undefined {
    if (this.staged.has(key)) return this.staged.get(key) ?? undefined;
    return this.table.get(key);
  }

  isRetired(key: string): boolean {
    if (this.retiring.has(key)) return true;
    return !this.staged.has(key) && this.table.isRetired(key);
  }

  child(refusal?: unknown): RecordScope<V> {
    return new RecordScope(this, refusal);
  }
}

export class RecordScope<V> implements ProcessContext<V> {
  private readonly staged: Staged<V> = new Map();
  private readonly retiring = new Set<string>();
  private readonly outputs: OutputRecord[] = [];

  constructor(
    private readonly parent: TransactionScope<V>,
    readonly refusal: unknown,
  ) {}

  get partition(): number {
    return this.parent.partition;
  }

  get now(): number {
    return this.parent.now;
  }

  get(key: string): V | undefined {
    if (this.staged.has(key)) return this.staged.get(key) ?? undefined;
    return this.parent.read(key);
  }

  put(key: string, value: V): void {
    this.staged.set(key, value);
    this.retiring.delete(key);
  }

  delete(key: string): void {
    this.staged.set(key, null);
    this.retiring.delete(key);
  }

  retire(key: string): void {
    this.staged.set(key, null);
    this.retiring.add(key);
  }

  isRetired(key: string): boolean {
    if (this.retiring.has(key)) return true;
    return !this.staged.has(key) && this.parent.isRetired(key);
  }

  send(record: OutputRecord): void {
    this.outputs.push(record);
  }

  merge(): void {
    for (const [key, value] of this.staged) {
      this.parent.staged.set(key, value);
      if (this.retiring.has(key)) this.parent.retiring.add(key);
      else this.parent.retiring.delete(key);
    }
    this.parent.outputs.push(...this.outputs);
  }
}
