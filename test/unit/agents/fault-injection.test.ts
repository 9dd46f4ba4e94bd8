import { describe, expect, it } from 'vitest';
import { faultInjection } from '../../../agents/start-agent.js';

describe('fault injection settings of an agent', () => {
  it('are ignored without STACKL_FAULT_INJECTION=1, so a stray setting cannot fail real jobs', () => {
    expect(faultInjection({ STACKL_AGENT_FAIL_TARGETS: 'east-1', STACKL_AGENT_DELAY_MS: '500' })).toEqual({ failTargets: new Set(), delayMs: 0 });
    expect(faultInjection({ STACKL_FAULT_INJECTION: 'yes', STACKL_AGENT_FAIL_TARGETS: 'east-1' })).toEqual({ failTargets: new Set(), delayMs: 0 });
  });

  it('are honoured with STACKL_FAULT_INJECTION=1', () => {
    expect(faultInjection({ STACKL_FAULT_INJECTION: '1', STACKL_AGENT_FAIL_TARGETS: 'east-1, west-2', STACKL_AGENT_DELAY_MS: '500' })).toEqual({ failTargets: new Set(['east-1', 'west-2']), delayMs: 500 });
  });
});
