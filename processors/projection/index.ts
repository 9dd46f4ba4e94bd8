// The public surface of the projection (DESIGN.md §7): the projector role, lag and
// read-your-writes helpers for the API, and replay + compare for `stackl replay`.
export { startProjector, PROJECTOR_APP } from './projector.js';
export type { ProjectorOptions, RunningProjector } from './projector.js';
export type { ProjectionStats } from './projection-consumer.js';
export { DEAD_LETTER_SOURCE_HEADER, deadLetterSource } from './dead-letter-rows.js';
export type { DeadLetterPosition, DeadLetterPublishing } from './dead-letter-publisher.js';
export { projectionLag, endOffsets, logBounds } from './lag.js';
export type { PartitionLag, ProjectionLag, LogBounds } from './lag.js';
export { projectedThrough, waitForProjection, storedOffsets, PROJECTOR_NAME } from './offsets.js';
export type { OffsetKey, Queryable } from './offsets.js';
export { replayProjection } from './replay.js';
export type { ReplayOptions, ReplayProgress, ReplayResult } from './replay.js';
export { compareProjections, describeDifference } from './compare.js';
export type { CompareOptions, ProjectionDifference } from './compare.js';
export { replayCommand, replaySchemaName } from './replay-command.js';
export type { CommandIo, ReplayCommandOptions } from './replay-command.js';
export type { ProjectedStatus, TaskCurrent, TaskFacts, TaskRow, EventRow, LogPosition } from './rows.js';
