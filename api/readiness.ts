// /readyz: the API is ready when Kafka answers (submits can land), PostgreSQL answers
// (reads can be served) and the projection is not too far behind the log (reads are
// fresh enough). Each check is bounded so a hung dependency fails readiness, not the probe.
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { ProjectionProgress } from './projection-progress.js';

export interface ReadinessProbe {
  kafka(): Promise<void>;
  postgres(): Promise<void>;
  /** Events the projection has yet to apply, per task.events partition. */
  lag(): Promise<Map<number, number>>;
}

export interface CheckResult {
  ok: boolean;
  error?: string;
  [detail: string]: unknown;
}

export interface Readiness {
  ready: boolean;
  checks: { kafka: CheckResult; postgres: CheckResult; projection: CheckResult };
}

export function createReadinessProbe(admin: Admin, pool: pg.Pool, progress: ProjectionProgress): ReadinessProbe {
  return {
    kafka: async () => {
      await admin.describeCluster();
    },
    postgres: async () => {
      await pool.query('select 1');
    },
    lag: () => progress.lag(),
  };
}

export async function checkReadiness(probe: ReadinessProbe, maxLag: number, timeoutMs = 3000): Promise<Readiness> {
  const [kafka, postgres, lag] = await Promise.all([bounded(probe.kafka(), timeoutMs), bounded(probe.postgres(), timeoutMs), bounded(probe.lag(), timeoutMs)]);
  let projection: CheckResult;
  if (!lag.ok) projection = { ok: false, error: lag.error };
  else {
    const byPartition = Object.fromEntries([...lag.value].map(([p, n]) => [String(p), n]));
    const worst = Math.max(0, ...lag.value.values());
    projection = { ok: worst <= maxLag, lag: byPartition, maxLag, ...(worst > maxLag ? { error: `projection is ${worst} events behind (limit ${maxLag})` } : {}) };
  }
  const checks = { kafka: result(kafka), postgres: result(postgres), projection };
  return { ready: checks.kafka.ok && checks.postgres.ok && projection.ok, checks };
}

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

async function bounded<T>(work: Promise<T>, timeoutMs: number): Promise<Outcome<T>> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Outcome<T>>((resolve) => {
    timer = setTimeout(() => resolve({ ok: false, error: `no answer within ${timeoutMs} ms` }), timeoutMs);
  });
  const answer = work.then(
    (value): Outcome<T> => ({ ok: true, value }),
    (error: unknown): Outcome<T> => ({ ok: false, error: error instanceof Error ? error.message : String(error) }),
  );
  try {
    return await Promise.race([answer, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function result(outcome: Outcome<unknown>): CheckResult {
  return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
}
