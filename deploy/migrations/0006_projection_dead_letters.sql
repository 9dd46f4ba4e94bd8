-- The projector's dead letters (records of task.events that do not decode), recorded in
-- the same transaction as the batch that read them and keyed by where they were read,
-- so a batch delivered again records nothing new. They are published to the dead-letter
-- topic only after that transaction committed, and marked once Kafka acknowledged them;
-- a row still waiting after a crash is published by the next projector to start.
create table projection_dead_letters (
  projector      text        not null,
  topic          text        not null,
  partition      integer     not null,
  "offset"       bigint      not null,
  -- The record exactly as it is sent: the original key and bytes, the original headers
  -- plus the dead-letter headers (names and base64 values, see dead-letter-rows.ts).
  dlq_topic      text        not null,
  key            bytea,
  value          bytea,
  headers        jsonb       not null,
  -- Readable copies of the error headers, for operators.
  error_code     text        not null,
  error_message  text        not null,
  recorded_at    timestamptz not null default now(),
  -- When Kafka acknowledged the record (acks=all); null while it waits to be sent.
  published_at   timestamptz,
  -- False for a replay's copy: the live projector publishes each dead letter, a replay
  -- of the same log only records it (and never sends it, even if its schema takes over).
  publish        boolean     not null default true,
  primary key (projector, topic, partition, "offset")
);

-- What the publisher looks for on start and periodically: rows still to be sent.
create index projection_dead_letters_waiting on projection_dead_letters (projector, topic, partition, "offset")
  where publish and published_at is null;
