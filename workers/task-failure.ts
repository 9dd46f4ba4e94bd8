// What a kind's handler throws to fail an attempt in a way of its choosing. Any other
// error fails it too, as retriable: a handler that crashed may well succeed next time.

export class TaskFailure extends Error {
  /** False: retrying cannot help (bad input, a conflict), so the task fails and rolls back now. */
  readonly retriable: boolean;

  constructor(message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'TaskFailure';
    this.retriable = options.retriable ?? true;
  }
}

/** Returned by a run handler that leaves the outcome to the broker's deadline (the probe's `hang`). */
export const NO_RESULT: unique symbol = Symbol('stackl.no-result');
