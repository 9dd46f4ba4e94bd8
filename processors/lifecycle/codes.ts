// Stable codes of the decider's refusals. Clients and tests match on these, never on messages.

/**
 * Why a SubmitTask became TaskRejected. OVERLOADED is the only one not about the request:
 * the broker shed a valid submission (DecideContext.shedding); send it again later, under
 * a new idempotency key, since a rejected id keeps its answer.
 */
export const REJECTION_CODES = ['UNKNOWN_KIND', 'UNKNOWN_ACTION', 'INVALID_PAYLOAD', 'PAYLOAD_TOO_LARGE', 'INVALID_OPTIONS', 'INVALID_ORIGIN', 'OVERLOADED'] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/** Why a command became CommandRejected (the task is unchanged). */
export const COMMAND_REJECTION_CODES = ['TASK_ID_CONFLICT', 'TASK_NOT_FOUND', 'TASK_NOT_CANCELLABLE', 'ROLLBACK_NOT_FAILED'] as const;
export type CommandRejectionCode = (typeof COMMAND_REJECTION_CODES)[number];
