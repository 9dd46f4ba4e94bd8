// LiveFeed: one look at the projection per poll however many streams listen; none when nobody does.
import { describe, expect, it } from 'vitest';
import { LiveFeed, type LiveEvent } from '../../../api/live-feed.js';
import type { TaskBody } from '../../../api/schemas.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('LiveFeed', () => {
  it('shares each look among its listeners, and stops with the last one', async () => {
    let looks = 0;
    let failing = false;
    const feed = new LiveFeed(
      {
        async changedSince() {
          looks += 1;
          if (failing) throw new Error('PostgreSQL away');
          return [{ id: `t${looks}`, sequence: 1, updatedAt: new Date().toISOString() } as TaskBody];
        },
      },
      20,
    );
    const a: LiveEvent[] = [];
    const b: LiveEvent[] = [];
    const stopA = feed.subscribe((e) => a.push(e));
    const stopB = feed.subscribe((e) => b.push(e));
    await pause(110);
    expect(looks).toBeGreaterThanOrEqual(3);
    expect(a.length).toBe(looks);
    expect(b).toEqual(a);
    failing = true;
    await pause(50);
    expect(a.at(-1)).toMatchObject({ error: expect.any(Error) });
    stopA();
    stopB();
    expect(feed.running).toBe(false);
    const after = looks;
    await pause(80);
    expect(looks - after).toBeLessThanOrEqual(1);
  });
});
