import kafkajs from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isCoordinatorLoss } from '../../../topics/coordinator-loss.js';

// kafkajs' error class (its typings omit the message its constructor needs).
const CoordinatorNotFound = kafkajs.KafkaJSGroupCoordinatorNotFound as unknown as new (message: string) => Error;

describe('a lost group coordinator', () => {
  it('is told by kafkajs’ error, thrown as is or as the cause kafkajs wraps it in', () => {
    const lost = new CoordinatorNotFound('Failed to find group coordinator');
    expect(isCoordinatorLoss(lost)).toBe(true);
    expect(isCoordinatorLoss(Object.assign(new kafkajs.KafkaJSNonRetriableError(lost.message), { cause: lost }))).toBe(true);
  });

  it('is not any other error that stops a consumer for good', () => {
    expect(isCoordinatorLoss(new kafkajs.KafkaJSNonRetriableError('Failed to find group coordinator (a look-alike message)'))).toBe(false);
    expect(isCoordinatorLoss(Object.assign(new Error('Not authorized to access group'), { type: 'GROUP_AUTHORIZATION_FAILED' }))).toBe(false);
    expect(isCoordinatorLoss(undefined)).toBe(false);
  });
});
