import { describe, expect, it } from 'vitest';
import { stackServiceSchema } from '../../../processors/lifecycle/kinds/stack.js';
import { compensatingJobs, transitionJobs, type StackInstance } from '../../../workers/managers/stack-plan.js';

const web = stackServiceSchema.parse({ name: 'web', config: { image: 'v1' } });
const db = stackServiceSchema.parse({ name: 'db' });
const v1: StackInstance = { services: [web, db], placement: [{ service: 'web', target: 'a' }, { service: 'db', target: 'b' }] };
const web2 = { ...web, config: { image: 'v2' } };
const v2: StackInstance = { services: [web2], placement: [{ service: 'web', target: 'c' }] };

describe('stack jobs', () => {
  it('a create applies every service on every target of its placement', () => {
    expect(transitionJobs('s', null, v1, [])).toEqual([
      { op: 'apply', target: 'a', resource: 's/web', spec: { stack: 's', service: 'web', config: { image: 'v1' } } },
      { op: 'apply', target: 'b', resource: 's/db', spec: { stack: 's', service: 'db', config: {} } },
    ]);
  });

  it('an update applies the new placement and removes what it no longer uses, including what an earlier attempt placed elsewhere', () => {
    const jobs = transitionJobs('s', v1, v2, ['d|s/web', 'c|s/web', 'x|other/web']);
    expect(jobs.map((j) => `${j.op} ${j.resource}@${j.target}`)).toEqual(['apply s/web@c', 'remove s/web@a', 'remove s/db@b', 'remove s/web@d']);
  });

  it('a delete removes every service', () => {
    expect(transitionJobs('s', v1, null, []).map((j) => `${j.op} ${j.resource}@${j.target}`)).toEqual(['remove s/web@a', 'remove s/db@b']);
  });

  it('compensation tears down after a create and re-applies the previous instance after an update', () => {
    expect(compensatingJobs('s', null, ['a|s/web', 'b|s/db']).map((j) => j.op)).toEqual(['remove', 'remove']);
    const undoUpdate = compensatingJobs('s', v1, ['a|s/web', 'b|s/db', 'c|s/web']);
    expect(undoUpdate).toEqual([
      { op: 'apply', target: 'a', resource: 's/web', spec: { stack: 's', service: 'web', config: { image: 'v1' } } },
      { op: 'apply', target: 'b', resource: 's/db', spec: { stack: 's', service: 'db', config: {} } },
      { op: 'remove', target: 'c', resource: 's/web', spec: null },
    ]);
  });
});
