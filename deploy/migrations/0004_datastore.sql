-- The datastore of the `document` kind: documents by key (<category>/<type>/<name>),
-- the state of every key before a task first touched it (what its rollback restores),
-- and one fence per task: the highest attempt that wrote, and whether rollback started.

create table documents (
  key                 text        primary key,
  body                jsonb       not null,
  version             integer     not null,
  updated_by_task     uuid        not null,
  updated_by_attempt  integer     not null,
  updated_at          timestamptz not null default now()
);

create table document_snapshots (
  task_id  uuid    not null,
  key      text    not null,
  existed  boolean not null,
  body     jsonb,
  primary key (task_id, key),
  check (existed = (body is not null))
);

create table task_fences (
  task_id      uuid    primary key,
  attempt      integer not null,
  rolled_back  boolean not null default false
);
