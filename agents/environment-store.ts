// The environment agents drive, on PostgreSQL: resources per target. Every job is one
// transaction that checks the task's fence first. An ordinary job (apply or remove) is
// refused once the task's rollback started or a later attempt wrote; a compensating job
// fences the task for good and then undoes the task's own change, only where the
// resource still carries it (a later task's change is left alone).
import pg from 'pg';
import { inTransaction } from '../core/pg-transaction.js';
import type { AgentJob, AgentReply } from '../channels/agent-messages.js';

export type ResourceSpec = Record<string, unknown>;

export interface EnvironmentResource {
  target: string;
  resource: string;
  spec: ResourceSpec;
  version: number;
  writtenByTask: string;
  writtenByAttempt: number;
}

type Outcome = Pick<AgentReply, 'status' | 'message'>;

interface ResourceRow {
  target: string;
  resource: string;
  present: boolean;
  spec: ResourceSpec | null;
  version: number;
  written_by_task: string;
  written_by_attempt: number;
}

export class EnvironmentStore {
  private readonly resources: string;
  private readonly fences: string;

  constructor(
    private readonly pool: pg.Pool,
    schema: string,
  ) {
    const quoted = pg.escapeIdentifier(schema);
    this.resources = `${quoted}.resources`;
    this.fences = `${quoted}.task_fences`;
  }

  /** What is present on the targets (all of them, or those given). */
  async list(targets?: readonly string[]): Promise<EnvironmentResource[]> {
    const where = targets === undefined ? '' : 'and target = any($1)';
    const { rows } = await this.pool.query<ResourceRow>(
      `select target, resource, present, spec, version, written_by_task, written_by_attempt from ${this.resources} where present ${where} order by target, resource`,
      targets === undefined ? [] : [targets],
    );
    return rows.map(toResource);
  }

  /** Applies one job idempotently: the same job twice leaves the same state. */
  async apply(job: AgentJob): Promise<Outcome> {
    return this.transaction(async (client) => {
      const refusal = job.compensation ? await this.fenceForRollback(client, job) : await this.checkFence(client, job);
      if (refusal !== null) return { status: 'refused', message: refusal };
      const current = (await client.query<ResourceRow>(`select * from ${this.resources} where target = $1 and resource = $2 for update`, [job.target, job.resource])).rows[0];
      if (job.compensation && current?.written_by_task !== job.taskId) {
        return { status: 'skipped', message: current === undefined ? 'the task never changed this resource' : 'another task changed this resource since; left as it is' };
      }
      const spec = job.op === 'apply' ? job.spec : null;
      if (job.op === 'apply' && spec === null) return { status: 'failed', message: 'an apply job needs a spec' };
      if (current !== undefined && current.present === (spec !== null) && sameJson(current.spec, spec) && !job.compensation) {
        await client.query(`update ${this.resources} set written_by_task = $3, written_by_attempt = $4 where target = $1 and resource = $2`, [job.target, job.resource, job.taskId, job.attempt]);
        return { status: 'unchanged', message: null };
      }
      await client.query(
        `insert into ${this.resources} (target, resource, present, spec, version, written_by_task, written_by_attempt, updated_at)
         values ($1, $2, $3, $4, 1, $5, $6, now())
         on conflict (target, resource) do update set present = excluded.present, spec = excluded.spec, version = ${this.resources}.version + 1,
           written_by_task = excluded.written_by_task, written_by_attempt = excluded.written_by_attempt, updated_at = excluded.updated_at`,
        [job.target, job.resource, spec !== null, spec === null ? null : JSON.stringify(spec), job.taskId, job.attempt],
      );
      return { status: spec === null ? 'removed' : 'applied', message: null };
    });
  }

  /** An ordinary job: refused when the task is rolling back or a later attempt has written; else raises the fence. */
  private async checkFence(client: pg.PoolClient, job: AgentJob): Promise<string | null> {
    await client.query(`insert into ${this.fences} (task_id, attempt) values ($1, $2) on conflict (task_id) do nothing`, [job.taskId, job.attempt]);
    const fence = (await client.query<{ attempt: number; rolled_back: boolean }>(`select attempt, rolled_back from ${this.fences} where task_id = $1 for update`, [job.taskId])).rows[0];
    if (fence === undefined) throw new Error(`fence of task ${job.taskId} vanished`);
    if (fence.rolled_back) return `task ${job.taskId} is being rolled back`;
    if (fence.attempt > job.attempt) return `attempt ${job.attempt} of task ${job.taskId} is stale: attempt ${fence.attempt} has written`;
    if (fence.attempt < job.attempt) await client.query(`update ${this.fences} set attempt = $2 where task_id = $1`, [job.taskId, job.attempt]);
    return null;
  }

  /** A compensation: from now on no ordinary job of this task changes anything. */
  private async fenceForRollback(client: pg.PoolClient, job: AgentJob): Promise<null> {
    await client.query(
      `insert into ${this.fences} (task_id, attempt, rolled_back) values ($1, $2, true) on conflict (task_id) do update set rolled_back = true`,
      [job.taskId, job.attempt],
    );
    return null;
  }

  private transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    return inTransaction(this.pool, work);
  }
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(canonical(a)) === JSON.stringify(canonical(b));
}

/** Key order does not make two specs different (jsonb reorders keys). */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, v]) => [k, canonical(v)]));
  }
  return value;
}

function toResource(row: ResourceRow): EnvironmentResource {
  return { target: row.target, resource: row.resource, spec: row.spec ?? {}, version: row.version, writtenByTask: row.written_by_task, writtenByAttempt: row.written_by_attempt };
}
