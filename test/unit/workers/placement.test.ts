import { describe, expect, it } from 'vitest';
import { stackServiceSchema } from '../../../processors/lifecycle/kinds/stack.js';
import { placeServices, type Target } from '../../../workers/handlers/placement.js';

const service = (name: string, requires: string[], replicas = 1) => stackServiceSchema.parse({ name, requires, replicas });
const target = (name: string, capabilities: string[], capacity?: number): Target => ({ name, capabilities, ...(capacity === undefined ? {} : { capacity }) });

describe('placing services on targets by capabilities', () => {
  it('puts each service only on targets offering every capability it requires', () => {
    const result = placeServices([service('db', ['linux', 'ssd']), service('web', ['linux'])], [target('a', ['linux']), target('b', ['linux', 'ssd'])]);
    expect(result).toEqual({ ok: true, placement: [{ service: 'db', target: 'b' }, { service: 'web', target: 'a' }] });
  });

  it('spreads replicas over distinct targets, least loaded first', () => {
    const result = placeServices([service('web', [], 3)], [target('c', []), target('a', []), target('b', [])]);
    expect(result.ok && result.placement.map((p) => p.target)).toEqual(['a', 'b', 'c']);
  });

  it('backtracks when a greedy choice would exhaust a target another service needs', () => {
    // "any" fits both targets, "special" only b; b has room for one service.
    const result = placeServices([service('any', []), service('special', ['gpu'])], [target('a', [], 1), target('b', ['gpu'], 1)]);
    expect(result).toEqual({ ok: true, placement: [{ service: 'any', target: 'a' }, { service: 'special', target: 'b' }] });
    const tight = placeServices([service('x', []), service('y', [])], [target('a', [], 1), target('b', [], 0)]);
    expect(tight).toEqual({ ok: false, reason: 'no placement satisfies every capability and capacity constraint' });
  });

  it('names the service and the missing capabilities when too few targets offer them', () => {
    const result = placeServices([service('ml', ['gpu'], 2)], [target('a', ['gpu']), target('b', ['linux'])]);
    expect(result).toEqual({ ok: false, reason: 'service "ml" needs 2 target(s) with capabilities gpu; 1 offer them' });
  });

  it('is deterministic: the same input gives the same placement whatever the order of targets', () => {
    const services = [service('a', [], 2), service('b', ['x']), service('c', [])];
    const targets = [target('t1', ['x']), target('t2', []), target('t3', ['x'], 1)];
    expect(placeServices(services, targets)).toEqual(placeServices([...services].reverse(), [...targets].reverse()));
  });
});
