// The message channel's generic primitives (the seed's MC, DESIGN.md §9): what any
// party may use while a task is processed, beside work delivery (work-channel.ts).
// Temporary storage, push/pop and publish/subscribe, JSON in and out, over `kafka` or
// `redis` (chosen by STACKL_CHANNEL, see start-message-channel.ts). Both implementations
// promise the same behaviour; where Kafka cannot, its file says so.

/** A value that survives JSON unchanged: what goes in comes out equal. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The encoded (UTF-8 JSON) size a value may have: well under Kafka's default 1 MB record limit. */
export const MAX_VALUE_BYTES = 256 * 1024;
/** The longest a stored value may live: temporary storage, not a datastore (the Kafka store's retention). */
export const MAX_TTL_MS = 7 * 24 * 60 * 60 * 1000;
/** The longest a pop may wait: what a Node timer can hold. */
export const MAX_WAIT_MS = 2_147_483_647;
/** Deeper values are refused: they only come from bugs, and would overflow the stack here. */
export const MAX_NESTING = 64;
/** Queue and pub/sub topic names become Kafka topic names, so they stay short and plain. */
export const MAX_NAME_LENGTH = 100;
export const MAX_KEY_LENGTH = 256;

export type MessageHandler = (value: JsonValue) => void | Promise<void>;

export interface Subscription {
  /** Stops delivery: once it resolves, the handler is not called again. */
  unsubscribe(): Promise<void>;
}

export interface MessageChannel {
  readonly name: string;

  /** Stores `value` under `key` for `ttlMs` (1 ms to 7 days), replacing what was there. */
  put(key: string, value: JsonValue, ttlMs: number): Promise<void>;
  /** The value under `key`, or undefined when there is none or it expired. */
  get(key: string): Promise<JsonValue | undefined>;
  remove(key: string): Promise<void>;

  /** Appends `value` to `queue`; values leave a queue in the order they came (FIFO). */
  push(queue: string, value: JsonValue): Promise<void>;
  /**
   * Takes the next value of `queue`, waiting up to `timeoutMs` for one (then undefined).
   * Each value goes to exactly one pop while nothing crashes; a popper that dies right
   * after taking a value loses it (at most once).
   */
  pop(queue: string, timeoutMs: number): Promise<JsonValue | undefined>;

  /** Sends `value` to every subscription of `topic` that was live when it was published. */
  publish(topic: string, value: JsonValue): Promise<void>;
  /**
   * Calls `handler` with every value published to `topic` from now on, one at a time in
   * publish order; resolves once the subscription is live. A handler that throws is
   * logged and skips that value only.
   */
  subscribe(topic: string, handler: MessageHandler): Promise<Subscription>;

  /** Ends subscriptions and pending pops (they resolve undefined) and frees connections. */
  close(): Promise<void>;
}
