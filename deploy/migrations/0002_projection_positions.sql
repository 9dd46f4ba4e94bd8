-- What the projector learned writing 0001's tables (processors/projection/README.md):
--  * A finished task is expunged from the broker's state and may be submitted again with
--    the same id; its sequence then restarts at 1. So rows are guarded by the position of
--    the last event applied in task.events (partition, offset), which only grows, and
--    task_events is keyed by that position instead of (task_id, sequence).
--  * A refused submission (TaskRejected) is a row too, with status Rejected; it carries
--    no kind, action, payload or origin, so those columns become nullable for it alone.
--  * The read model keeps what the API shows about the running attempt and the rollback.

alter table tasks drop constraint tasks_status_check;
alter table tasks add constraint tasks_status_check
  check (status in ('Available', 'InProgress', 'Completed', 'Failed', 'Rejected'));

alter table tasks
  alter column kind drop not null,
  alter column action drop not null,
  alter column idempotency_key drop not null,
  alter column payload drop not null,
  alter column origin_type drop not null,
  alter column origin_type drop default,
  add column rejection_code    text,
  add column rejection_message text,
  add column max_attempts      integer,
  add column worker_id         text,
  add column progress_percent  integer,
  add column progress_message  text,
  add column attempt_error     text,
  add column retry_at          timestamptz,
  add column rollback_attempts integer not null default 0,
  add column rollback_error    text,
  -- Position in task.events of the last event applied. The defaults place a row written
  -- by hand before every real position, so the first event always applies.
  add column last_partition    integer not null default 0,
  add column last_offset       bigint  not null default -1;

-- Only a rejected submission may lack what every accepted task has.
alter table tasks add constraint tasks_accepted_complete
  check (status = 'Rejected' or (kind is not null and action is not null and idempotency_key is not null
                                 and payload is not null and origin_type is not null));
alter table tasks add constraint tasks_origin_type_check
  check (origin_type in ('none', 'topic', 'webhook'));

-- Every filter of GET /tasks paginates on (created_at, id).
drop index tasks_rollback;
drop index tasks_origin;
create index tasks_rollback_created on tasks (rollback, created_at, id) where rollback is not null;
create index tasks_origin_created on tasks (origin_target, created_at, id) where origin_target is not null;

alter table task_events drop constraint task_events_pkey;
alter table task_events
  add primary key (partition, "offset"),
  add column rollback_attempt integer,
  add column causation_id     text,
  add column correlation_id   text;
-- GET /tasks/:id/events: a task's history in log order, across re-submissions.
create index task_events_task on task_events (task_id, partition, "offset");

alter table projection_offsets add constraint projection_offsets_next_offset_check check (next_offset >= 0);
