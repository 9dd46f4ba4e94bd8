// The environment's own tables: what agents have put on each infrastructure target
// (standing for the client's real infrastructure), and one fence per task. Only agents
// write here, into a schema of its own; the migrations live with the agents so the
// datastore's numbering stays the datastore's.
import { createHash } from 'node:crypto';
import type { Migration } from '../deploy/migrations/runner.js';

const sources: { name: string; sql: string }[] = [
  {
    name: 'environment',
    sql: `
-- One row per resource (a stack's service) on a target. A removed resource keeps its
-- row as a tombstone (present = false), so a compensation can tell who removed it.
create table resources (
  target              text        not null,
  resource            text        not null,
  present             boolean     not null,
  spec                jsonb,
  version             integer     not null,
  written_by_task     uuid        not null,
  written_by_attempt  integer     not null,
  updated_at          timestamptz not null default now(),
  primary key (target, resource),
  check (present = (spec is not null))
);

create table task_fences (
  task_id      uuid    primary key,
  attempt      integer not null,
  rolled_back  boolean not null default false
);
`,
  },
];

export const environmentMigrations: Migration[] = sources.map((source, index) => ({
  version: index + 1,
  name: source.name,
  sql: source.sql,
  checksum: createHash('sha256').update(source.sql).digest('hex'),
}));
