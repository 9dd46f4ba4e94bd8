// kafkajs gives up on a consumer for good when it cannot find its group coordinator:
// after a Kafka restart, or when the one broker it asked dropped the connection, its
// lookup ends in KafkaJSGroupCoordinatorNotFound, which kafkajs counts as not
// retriable. The group is still there once Kafka answers again, so a consumer that can
// simply join again (a worker's order lanes, its agent replies) does so.

export function isCoordinatorLoss(error: unknown): boolean {
  for (let cause: unknown = error, depth = 0; typeof cause === 'object' && cause !== null && depth < 5; depth += 1) {
    if ((cause as { name?: unknown }).name === 'KafkaJSGroupCoordinatorNotFound') return true;
    cause = (cause as { cause?: unknown }).cause;
  }
  return false;
}
