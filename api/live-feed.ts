// One look at the projection per poll, shared by every open GET /tasks/live stream:
// a hundred console tabs cost one query per poll, not a hundred. It runs while someone
// listens and stops with the last listener.
import type { TaskBody } from './schemas.js';
import { TaskChanges, type ChangeSource } from './task-changes.js';

export type LiveEvent = { tasks: TaskBody[] } | { error: unknown };

export class LiveFeed {
  private readonly listeners = new Set<(event: LiveEvent) => void>();
  private changes: TaskChanges | null = null;
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly source: ChangeSource,
    private readonly pollMs: number,
  ) {}

  subscribe(listener: (event: LiveEvent) => void): () => void {
    this.listeners.add(listener);
    if (this.changes === null) {
      this.changes = new TaskChanges(this.source);
      void this.look(this.changes);
    }
    return () => {
      this.listeners.delete(listener);
      if (this.listeners.size === 0) this.halt();
    };
  }

  get running(): boolean {
    return this.changes !== null;
  }

  private halt(): void {
    clearTimeout(this.timer);
    this.changes = null;
  }

  private async look(changes: TaskChanges): Promise<void> {
    let event: LiveEvent;
    try {
      event = { tasks: await changes.next() };
    } catch (error) {
      event = { error };
    }
    // Halted while the query ran (the last listener left), perhaps started again since: this loop is over.
    if (this.changes !== changes) return;
    for (const listener of [...this.listeners]) listener(event);
    this.timer = setTimeout(() => void this.look(changes), this.pollMs);
  }
}
