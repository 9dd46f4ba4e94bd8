-- The kind registry of the `custom` broker (processors/registry/table-kinds.ts): what the
-- Kafka broker keeps on its compacted task.kinds topic, one row per kind. Workers write
-- their kinds here when they start; the broker and the API read it, and read it again
-- before they refuse a kind they do not know.
create table broker_kinds (
  name          text        primary key,
  record        jsonb       not null,
  registered_at timestamptz not null default now()
);
