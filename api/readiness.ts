// Readiness per function, so one stalled stage does not stop the others:
//   submit — Kafka answers and the API would admit a submission now (nothing pending
//            beyond the bound, no recent produce failure, backlogs under their bounds);
//   read   — PostgreSQL answers and the projection is not too far behind the log.
// /readyz is ready while both dependencies answer (a projector stall or a deep backlog
// leaves it ready: the API answers those itself, reads with fresh-enough data and
// submissions with 503 OVERLOADED); /readyz/submit and /readyz/read fail on their own
// function. Each check is bounded so a hung dependency fails readiness, not the probe.
import type { Admin } from 'kafkajs';
import type pg from 'pg';
import type { SubmitReadiness } from './admission.js';
import { bounded, type Outcome } from './bounded.js';
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

export interface FunctionReadiness {
  ready: boolean;
  /** The failing checks, as `check: why`. */
  failing: string[];
}

export interface Readiness {
  ready: boolean;
  functions: { submit: FunctionReadiness; read: FunctionReadiness };
  checks: { kafka: CheckResult; postgres: CheckResult; projection: CheckResult; admission: CheckResult };
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

export async function checkReadiness(probe: ReadinessProbe, maxLag: number, admission: () => SubmitReadiness, timeoutMs = 3000): Promise<Readiness> {
  const [kafka, postgres, lag] = await Promise.all([bounded(probe.kafka(), timeoutMs), bounded(probe.postgres(), timeoutMs), bounded(probe.lag(), timeoutMs)]);
  let projection: CheckResult;
  if (!lag.ok) projection = { ok: false, error: lag.error };
  else {
    const byPartition = Object.fromEntries([...lag.value].map(([p, n]) => [String(p), n]));
    const worst = Math.max(0, ...lag.value.values());
    projection = { ok: worst <= maxLag, lag: byPartition, maxLag, ...(worst > maxLag ? { error: `projection is ${worst} events behind (limit ${maxLag})` } : {}) };
  }
  const admitting = admission();
  const { ready: admits, reasons, ...admissionDetail } = admitting;
  const checks = {
    kafka: result(kafka),
    postgres: result(postgres),
    projection,
    admission: { ok: admits, ...admissionDetail, ...(admits ? {} : { error: reasons.join('; ') }) },
  };
  const submit = readinessOf({ kafka: checks.kafka, admission: checks.admission });
  const read = readinessOf({ postgres: checks.postgres, projection });
  return { ready: checks.kafka.ok && checks.postgres.ok, functions: { submit, read }, checks };
}

function readinessOf(checks: Record<string, CheckResult>): FunctionReadiness {
  const failing = Object.entries(checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.error ?? 'failing'}`);
  return { ready: failing.length === 0, failing };
}

function result(outcome: Outcome<unknown>): CheckResult {
  return outcome.ok ? { ok: true } : { ok: false, error: outcome.error };
}
