// The public surface of the lifecycle decider. Both brokers (the Kafka stream processor
// and the single-process one) run exactly these functions; everything else in this
// folder is an implementation detail.
export { decide } from './decide.js';
export { evolve } from './evolve.js';
export { foldEvents } from './fold.js';
export type { Folded } from './fold.js';
export { effects } from './effects.js';
export { nextDeadline } from './next-deadline.js';
export { taskView } from './task-view.js';
export type { TaskView } from './task-view.js';
export { initialState, retiredState, sequenceOf } from './state.js';
export type { AbsentState, Failure, LiveState, RejectedState, RetiredState, RollbackStatus, TaskState, TaskStatus } from './state.js';
export type { DecideContext, Effect, LifecycleEvent, LifecycleEventOf, LifecycleEventType, LifecycleInput } from './types.js';
export { defaultLifecycleDefaults } from './defaults.js';
export { bounded, defaultLifecycleLimits, lifecycleLimitsOf, replyTopicProblem, TEXT_LIMITS, webhookProblem } from './limits.js';
export type { LifecycleLimits } from './limits.js';
export { checkJsonText, checkJsonValue, MAX_JSON_DEPTH } from './json-text.js';
export type { JsonTextCheck, JsonTextProblem } from './json-text.js';
export type { LifecycleDefaults } from './defaults.js';
export { backoffDelay } from './backoff.js';
export { MAX_DURATION_MS } from './submit-options.js';
export { COMMAND_REJECTION_CODES, REJECTION_CODES } from './codes.js';
export type { CommandRejectionCode, RejectionCode } from './codes.js';
export { InvalidTransitionError, positionOf, transitions } from './transitions.js';
export type { Position } from './transitions.js';
export { builtInKinds, createKindRegistry, defineKind, KIND_DEFAULT_FIELDS, KIND_NAME_PATTERN, payloadSchemaFor } from './kinds.js';
export type { KindDefaults, KindDefinition, KindRegistry, NamedKind, RollbackMode } from './kinds.js';
export { probeKind, probePayloadSchema } from './kinds/probe.js';
export type { ProbePayload } from './kinds/probe.js';
export { liveOutcome, rejectedOutcome, type OutcomeDocument } from './outcome-document.js';
