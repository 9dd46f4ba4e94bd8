// The library entry point (`import { defineKind, implement, createWorker } from 'stackl'`):
// what users' own code needs to bring a kind of task and serve it. README, "Your own kinds".
export { defineKind } from './processors/lifecycle/kinds/define-kind.js';
export type { KindDefaults, KindDefinition, NamedKind, RollbackMode } from './processors/lifecycle/kinds/define-kind.js';
export { implement } from './workers/implement.js';
export type { KindHandlers, RollbackContext, RunContext, ServedKind } from './workers/implement.js';
export { NO_RESULT, TaskFailure } from './workers/task-failure.js';
export { createWorker } from './workers/create-worker.js';
export type { CreateWorkerOptions } from './workers/create-worker.js';
export type { Worker, WorkerStats } from './workers/worker.js';
export { KafkaBrokerClient } from './processors/broker/kafka-broker-client.js';
export { loadConfig } from './core/config.js';
export type { StacklConfig } from './core/config.js';
export { useConfiguredWireFormat } from './topics/schema-registration.js';
