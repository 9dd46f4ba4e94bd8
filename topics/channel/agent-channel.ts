// The channel between workers and agents (the seed's MC, second use): a worker sends a
// job for one target and waits for its reply; an agent serves the targets its selector
// matches. Implementations: Kafka (topics agent.jobs / agent.replies) and Redis (a
// stream with one consumer group per agent, and a reply list per worker).
import type { AgentJobRequest, AgentJob, AgentReply } from './agent-messages.js';

export interface AgentJobClient {
  readonly name: string;
  /** Sends the job and resolves with the agent's reply; rejects when `signal` aborts first. */
  request(job: AgentJobRequest, signal: AbortSignal): Promise<AgentReply>;
  close(): Promise<void>;
}

export interface AgentJobServer {
  readonly name: string;
  /**
   * Delivers every job whose target `accepts` to `handle`, at most `concurrency` at a
   * time, and sends back what it returns. A job whose agent dies before replying is
   * delivered again (agents apply idempotently).
   */
  serve(accepts: (target: string) => boolean, handle: (job: AgentJob) => Promise<AgentReply>, concurrency: number): Promise<void>;
  close(): Promise<void>;
}

/** Rejects when the signal aborts; used while a reply is awaited. */
export function abortable<T>(promise: Promise<T>, signal: AbortSignal, onAbort: () => void): Promise<T> {
  if (signal.aborted) {
    onAbort();
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const abort = (): void => {
      onAbort();
      reject(signal.reason as Error);
    };
    signal.addEventListener('abort', abort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', abort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', abort);
        reject(error as Error);
      },
    );
  });
}
