import { describe, expect, it } from 'vitest';
import { instantiateTemplate } from '../../../processors/lifecycle/kinds/stack-template.js';
import { stackKind } from '../../../processors/lifecycle/kinds/stack.js';
import { payloadSchemaFor } from '../../../processors/lifecycle/kinds/define-kind.js';

const template = {
  parameters: {
    image: { type: 'string', description: 'what the web service runs' },
    replicas: { type: 'integer', default: 1 },
    public: { type: 'boolean', default: false },
    env: { type: 'string', default: 'prod' },
  },
  services: [{ name: 'web-${env}', requires: ['web'], replicas: '${replicas}', config: { image: '${image}', public: '${public}', url: 'https://${env}.shop/${image}', tags: ['${env}', 'x'] } }],
};

const problems = (given: Record<string, string | number | boolean>, body: unknown = template) => {
  const result = instantiateTemplate('t', body, given);
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};

describe('stack templates', () => {
  it('fill whole placeholders with typed values and inner ones with their text, defaults where not given', () => {
    expect(instantiateTemplate('t', template, { image: 'web:3', replicas: 2 })).toEqual({
      ok: true,
      services: [{ name: 'web-prod', requires: ['web'], replicas: 2, config: { image: 'web:3', public: false, url: 'https://prod.shop/web:3', tags: ['prod', 'x'] } }],
    });
  });

  it('name every missing, unknown and mistyped parameter at once', () => {
    expect(problems({ replicas: 1.5, colour: 'red', public: 'yes' })).toEqual([
      'parameters.colour: template "t" has no parameter "colour"; its parameters: image, replicas, public, env',
      'parameters.image: template "t" needs parameter "image" (string)',
      'parameters.replicas: must be an integer, got 1.5',
      'parameters.public: must be a boolean, got "yes"',
    ]);
  });

  it('refuse a result that is not a valid stack, saying the template made it', () => {
    expect(problems({ image: 'i', replicas: 0 })[0]).toMatch(/^services\.0\.replicas: after instantiating template "t": /);
    expect(problems({ image: 'i', env: 'Not A Name!' })[0]).toMatch(/^services\.0\.name: after instantiating template "t"/);
  });

  it('refuse a template that uses a placeholder it does not declare, or is not a template', () => {
    expect(problems({}, { services: [{ name: '${who}' }] })).toEqual(['template t: uses ${who}, which it does not declare']);
    expect(problems({}, { parameters: { '1bad': { type: 'string' } }, services: [] })).toHaveLength(2);
    expect(problems({}, 'not an object')).toHaveLength(1);
  });

  it('are named by a stack create or update; services and a template are not both given', () => {
    const create = payloadSchemaFor(stackKind, 'create');
    expect(create?.safeParse({ name: 'shop', template: 'webapp', parameters: { image: 'x' } }).success).toBe(true);
    expect(create?.safeParse({ name: 'shop', template: 'webapp' }).success).toBe(true);
    expect(create?.safeParse({ name: 'shop', template: 'webapp', services: [{ name: 'a' }] }).success).toBe(false);
    expect(create?.safeParse({ name: 'shop', template: 'Web App' }).success).toBe(false);
    expect(create?.safeParse({ name: 'shop', template: 'webapp', parameters: { deep: { a: 1 } } }).success).toBe(false);
  });
});
