-- What a task has sent outside the datastore (agent jobs: "<target>|<resource>"),
-- written, fenced, before it is sent, so a rollback knows every place to compensate
-- even when the attempt died before hearing back.
create table task_journal (
  task_id  uuid not null,
  entry    text not null,
  primary key (task_id, entry)
);
