import { describe, expect, it } from 'vitest';
import { targetSelector } from '../../../agents/target-selector.js';

describe('an agent\'s target selector', () => {
  it('matches names and globs from a comma-separated list', () => {
    const accepts = targetSelector('eu-*, lab-1');
    expect(['eu-1', 'eu-west.2', 'lab-1'].map(accepts)).toEqual([true, true, true]);
    expect(['lab-10', 'us-1', 'xeu-1'].map(accepts)).toEqual([false, false, false]);
  });

  it('treats a dot literally and * as any run of characters', () => {
    expect(targetSelector('a.b')('axb')).toBe(false);
    expect(targetSelector('*')('anything')).toBe(true);
  });

  it('refuses an empty selector or characters a target name cannot hold, saying why', () => {
    expect(() => targetSelector(' , ')).toThrow(/needs --targets/);
    expect(() => targetSelector('eu-[12]')).toThrow(/"eu-\[12\]" is not a target name or glob/);
  });
});
