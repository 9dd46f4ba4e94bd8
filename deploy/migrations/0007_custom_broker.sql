-- The `custom` broker's durable state (processors/broker/custom/): the same lifecycle
-- processor as the Kafka broker, with PostgreSQL in place of Kafka's topics. Every decision
-- is one transaction over these tables: the inputs it consumed leave the inbox, the task's
-- state is written, its events are appended to the log, its orders to the outbox.

-- Requests (from producers) and results (from workers, via the channel) waiting for the
-- broker, each on the partition of its task. Ids only grow; a row leaves once decided.
create table broker_inbox (
  id          bigserial   primary key,
  partition   integer     not null,
  task_id     text        not null,
  source      text        not null check (source in ('request', 'result')),
  body        bytea       not null,
  received_at timestamptz not null default now()
);
create index broker_inbox_partition on broker_inbox (partition, id);

-- Each task's current state (the Kafka broker's changelog), with the deadline the
-- broker must act at (indexed: ticks read only what is due). A retired task keeps its
-- row without state until its idempotency window ends, so its id stays spent.
create table broker_tasks (
  task_id       text    primary key,
  partition     integer not null,
  state         jsonb,
  next_deadline bigint,
  retired_until bigint
);
create index broker_tasks_due on broker_tasks (partition, next_deadline) where next_deadline is not null;
create index broker_tasks_retired on broker_tasks (partition, retired_until) where retired_until is not null;

-- The log (task.events): every event as the Avro record the Kafka broker writes, at an
-- offset per partition. History, audit, replay and the projection read it.
create table broker_events (
  partition integer not null,
  "offset"  bigint  not null,
  task_id   text    not null,
  value     bytea   not null,
  primary key (partition, "offset")
);

-- Per partition: the next event offset; its row is also what a decision locks.
create table broker_partitions (
  partition          integer primary key,
  next_offset        bigint  not null default 0
);

-- Orders for workers (task.dispatch / task.rollbacks) and for the notifier, written with
-- the decision; a dispatcher sends them to the channel (SKIP LOCKED, so several brokers
-- share the sending). On RabbitMQ, which keeps its queues, a sent order is deleted; on
-- Redis, which may restart empty, it stays (sent_at set) until its worker acknowledges
-- it, and is sent again if Redis lost it.
create table broker_outbox (
  id       bigserial primary key,
  queue    text      not null,
  task_id  text      not null,
  value    bytea     not null,
  sent_at  bigint
);
create index broker_outbox_waiting on broker_outbox (queue, id) where sent_at is null;

-- What could not be processed (task.dlq): the record, where it came from and why.
create table broker_dead_letters (
  id          bigserial   primary key,
  source      text        not null,
  task_id     text,
  value       bytea,
  headers     jsonb       not null,
  recorded_at timestamptz not null default now()
);

-- Live broker instances (heartbeats), so each takes its fair share of the partitions.
create table broker_members (
  member_id    text        primary key,
  heartbeat_at timestamptz not null
);
