-- The projection of DESIGN.md §7: the current row of every task, every event of
-- every attempt, and the offsets the projector consumed, written in one transaction.

create table tasks (
  id               uuid primary key,
  kind             text        not null,
  action           text        not null,
  status           text        not null check (status in ('Available', 'InProgress', 'Completed', 'Failed')),
  rollback         text        check (rollback in ('pending', 'running', 'done', 'failed')),
  failure_reason   text        check (failure_reason in ('error', 'timeout', 'cancelled')),
  failure_message  text,
  attempts         integer     not null default 0,
  origin_type      text        not null default 'none',
  origin_target    text,
  idempotency_key  text        not null,
  payload          jsonb       not null,
  output           jsonb,
  deadline_at      timestamptz,
  created_at       timestamptz not null,
  updated_at       timestamptz not null,
  -- The per-task sequence of the last event applied: upserts only move forward.
  last_sequence    bigint      not null
);

create index tasks_status_created on tasks (status, created_at, id);
create index tasks_kind_created on tasks (kind, created_at, id);
create index tasks_rollback on tasks (rollback, updated_at) where rollback is not null;
create index tasks_origin on tasks (origin_target, created_at) where origin_target is not null;
create index tasks_created on tasks (created_at, id);

create table task_events (
  task_id     uuid        not null,
  sequence    bigint      not null,
  event_id    uuid        not null unique,
  type        text        not null,
  attempt     integer,
  time        timestamptz not null,
  body        jsonb       not null,
  -- Where the event sits in task.events, so audits can point at the log.
  partition   integer     not null,
  "offset"    bigint      not null,
  primary key (task_id, sequence)
);

create table projection_offsets (
  projector    text    not null,
  topic        text    not null,
  partition    integer not null,
  next_offset  bigint  not null,
  updated_at   timestamptz not null default now(),
  primary key (projector, topic, partition)
);
