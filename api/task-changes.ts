// What changed in the projection since the last look, for GET /tasks/live. A row's
// updated_at is the time of its event, not of its projection: a change to another
// partition's task may land with an earlier time than one already sent. So each look
// reaches back a while before the newest change seen, and a task is sent again only
// when its sequence moved.
import type { TaskBody } from './schemas.js';

export interface ChangeSource {
  changedSince(since: string, limit: number): Promise<TaskBody[]>;
}

export class TaskChanges {
  /** id → the sequence sent and the change time, for tasks changed within the look-back. */
  private readonly sent = new Map<string, { sequence: number; at: number }>();
  private newest: number;

  constructor(
    private readonly source: ChangeSource,
    private readonly lookBackMs = 10_000,
    start = Date.now(),
    private readonly limit = 500,
  ) {
    // The first look covers the moments before the client connected (it listed tasks just before).
    this.newest = start;
  }

  async next(): Promise<TaskBody[]> {
    const since = this.newest - this.lookBackMs;
    const rows = await this.source.changedSince(new Date(since).toISOString(), this.limit);
    const changed: TaskBody[] = [];
    for (const task of rows) {
      if (this.sent.get(task.id)?.sequence === task.sequence) continue;
      const at = Date.parse(task.updatedAt);
      this.sent.set(task.id, { sequence: task.sequence, at });
      if (at > this.newest) this.newest = at;
      changed.push(task);
    }
    // Forget what the next look cannot return any more.
    for (const [id, entry] of this.sent) if (entry.at < this.newest - this.lookBackMs) this.sent.delete(id);
    return changed;
  }
}
