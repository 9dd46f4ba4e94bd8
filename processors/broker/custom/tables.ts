// The custom broker's tables (deploy/migrations/0007_custom_broker.sql), qualified by the
// deployment's schema, and its notification channels. The schema is a checked lower-case
// identifier (core/config.ts), so quoting it is enough.

export interface BrokerTables {
  inbox: string;
  tasks: string;
  events: string;
  partitions: string;
  outbox: string;
  deadLetters: string;
  members: string;
  /** NOTIFY channel: a partition's inbox has new rows (payload: the partition). */
  inboxChannel: string;
  /** NOTIFY channel: the outbox has orders to send. */
  outboxChannel: string;
  /** The first key of every partition's advisory lock (the second is the partition). */
  lockClass: string;
}

export function brokerTables(schema: string): BrokerTables {
  const q = (table: string) => `"${schema}".${table}`;
  return {
    inbox: q('broker_inbox'),
    tasks: q('broker_tasks'),
    events: q('broker_events'),
    partitions: q('broker_partitions'),
    outbox: q('broker_outbox'),
    deadLetters: q('broker_dead_letters'),
    members: q('broker_members'),
    // PostgreSQL refuses channel names over 63 bytes.
    inboxChannel: `stackl_inbox_${schema}`.slice(0, 63),
    outboxChannel: `stackl_outbox_${schema}`.slice(0, 63),
    lockClass: `stackl.custom-broker:${schema}`,
  };
}
