// kafkajs restarts a consumer after a retriable crash, but gives up for good after some
// (a group coordinator not found once its retries ran out, say) and leaves the process
// running with nothing consuming: a role that serves nothing until someone notices. Every
// long-lived consumer of a role is watched here, and the role is told, so it can exit and
// be restarted by its supervisor (the broker and the projector have done so all along).
import type { Consumer } from 'kafkajs';
import type { Logger } from '../core/log.js';

/** What a role does when one of its consumers stopped for good: by default, exit. */
export type OnConsumerStopped = (error: unknown) => void;

export function watchConsumer(consumer: Consumer, what: string, log: Logger, onStopped: OnConsumerStopped | undefined): void {
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return;
    log.error(`${what}: kafkajs stopped the consumer for good`, { error: payload.error });
    onStopped?.(payload.error);
  });
}
