// The custom broker's log (broker_events) read into a per-task history, as EventLog reads
// task.events: polled in offset order per partition, each event kept once.
import type pg from 'pg';
import { decode, taskEventSchema, type TaskEventMessage } from '../../schemas/index.js';

export class TableEventLog {
  readonly byTask = new Map<string, TaskEventMessage[]>();
  readonly all: TaskEventMessage[] = [];
  private readonly next = new Map<number, bigint>();
  private timer: NodeJS.Timeout | undefined;
  private reading: Promise<void> | undefined;

  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.reading ??= this.read()
        .catch(() => {})
        .finally(() => (this.reading = undefined));
    }, 50);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.reading;
  }

  /** Events with their partition offsets, in log order per partition. */
  async rows(): Promise<{ partition: number; offset: bigint; event: TaskEventMessage }[]> {
    const { rows } = await this.pool.query<{ partition: number; offset: string; value: Buffer }>(`select partition, "offset", value from "${this.schema}".broker_events order by partition, "offset"`);
    return Promise.all(rows.map(async (r) => ({ partition: r.partition, offset: BigInt(r.offset), event: await decode(r.value, taskEventSchema) })));
  }

  types(taskId: string): string[] {
    return (this.byTask.get(taskId) ?? []).map((e) => e.type);
  }

  async waitFor(taskId: string, predicate: (types: string[]) => boolean, timeoutMs = 30_000): Promise<TaskEventMessage[]> {
    for (const until = Date.now() + timeoutMs; !predicate(this.types(taskId)); await new Promise((resolve) => setTimeout(resolve, 50))) {
      if (Date.now() > until) throw new Error(`task ${taskId} history did not match in ${timeoutMs} ms: [${this.types(taskId).join(', ')}]`);
    }
    return this.byTask.get(taskId) ?? [];
  }

  async waitForAll(predicate: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
    for (const until = Date.now() + timeoutMs; !predicate(); await new Promise((resolve) => setTimeout(resolve, 100))) {
      if (Date.now() > until) throw new Error(`event log did not reach the expected state in ${timeoutMs} ms: ${describe()}`);
    }
  }

  private async read(): Promise<void> {
    const { rows } = await this.pool.query<{ partition: number; offset: string; value: Buffer }>(
      `select e.partition, e."offset", e.value from "${this.schema}".broker_events e
       left join unnest($1::int[], $2::bigint[]) as n(partition, next) on n.partition = e.partition
       where e."offset" >= coalesce(n.next, 0) order by e.partition, e."offset" limit 5000`,
      [[...this.next.keys()], [...this.next.values()].map(String)],
    );
    for (const row of rows) {
      const offset = BigInt(row.offset);
      if (offset < (this.next.get(row.partition) ?? 0n)) continue;
      this.next.set(row.partition, offset + 1n);
      const event = await decode(row.value, taskEventSchema);
      this.all.push(event);
      const list = this.byTask.get(event.taskId) ?? [];
      list.push(event);
      this.byTask.set(event.taskId, list);
    }
  }
}
