import { describe, expect, it } from 'vitest';
import { CoalescingSender, type CoalescingLimits } from '../../../topics/coalescing-sender.js';

/** A flush that records each request and answers when told to. */
function recorder<T>(limits: CoalescingLimits<T>) {
  const requests: T[][] = [];
  const answers: Array<{ ok: () => void; fail: (error: Error) => void }> = [];
  const sender = new CoalescingSender<T, string>(
    (items) =>
      new Promise<string[]>((resolve, reject) => {
        requests.push(items);
        answers.push({ ok: () => resolve(items.map((item) => `ack:${String(item)}`)), fail: reject });
      }),
    limits,
  );
  return { sender, requests, answers };
}

const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('CoalescingSender', () => {
  it('sends the calls of one tick together, and queues the calls made while a request is in flight into the next one', async () => {
    const { sender, requests, answers } = recorder<number>({ maxItems: 100 });
    const first = [sender.send(1), sender.send(2)];
    await tick();
    expect(requests).toEqual([[1, 2]]);
    const later = [sender.send(3), sender.send(4), sender.send(5)];
    await tick();
    expect(requests).toHaveLength(1);
    answers[0]?.ok();
    expect(await Promise.all(first)).toEqual(['ack:1', 'ack:2']);
    await tick();
    expect(requests[1]).toEqual([3, 4, 5]);
    answers[1]?.ok();
    expect(await Promise.all(later)).toEqual(['ack:3', 'ack:4', 'ack:5']);
  });

  it('fails only the calls of the request that failed', async () => {
    const { sender, requests, answers } = recorder<number>({ maxItems: 100 });
    const doomed = sender.send(1);
    await tick();
    const survivor = sender.send(2);
    answers[0]?.fail(new Error('broker said no'));
    await expect(doomed).rejects.toThrow('broker said no');
    await tick();
    expect(requests[1]).toEqual([2]);
    answers[1]?.ok();
    expect(await survivor).toBe('ack:2');
  });

  it('keeps each request within maxItems and maxBytes, and sends an item over maxBytes alone', async () => {
    const { sender, requests, answers } = recorder<string>({ maxItems: 3, maxBytes: 10, sizeOf: (s) => s.length });
    const sent = ['aaaa', 'bbbb', 'cccc', 'x'.repeat(25), 'd', 'e', 'f', 'g'].map((s) => sender.send(s));
    for (let i = 0; i < 5; i++) {
      await tick();
      answers[i]?.ok();
      await tick();
    }
    await Promise.all(sent);
    expect(requests.map((r) => r.join(','))).toEqual(['aaaa,bbbb', 'cccc', 'x'.repeat(25), 'd,e,f', 'g']);
  });

  it('rejects every call of a request whose answer does not match it', async () => {
    const sender = new CoalescingSender<number, string>(async () => ['only one'], { maxItems: 10 });
    const calls = [sender.send(1), sender.send(2)];
    for (const call of calls) await expect(call).rejects.toThrow('flush answered 1 results for 2 items');
  });
});
