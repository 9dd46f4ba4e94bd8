// Stack templates (the seed's "create or instantiate ST"): a document
// `stack/template/<name>` declares parameters and services whose strings may hold
// `${parameter}` placeholders; `stack create { name, template, parameters }` instantiates
// it. A string that is exactly one placeholder takes the parameter's value with its type
// (a replica count stays a number); a placeholder inside a longer string is replaced by
// the value's text. The result must be a valid services list, as if written by hand.
// Pure: the API checks a submission with it (422), the worker instantiates with it.
import { z } from 'zod';
import { stackServiceSchema, type StackService } from './stack.js';

export const TEMPLATE_PREFIX = 'stack/template/';

const parameterNameSchema = z.string().regex(/^[a-zA-Z_][a-zA-Z0-9_]{0,62}$/, 'a parameter name is letters, digits and _, not starting with a digit');
const parameterValueSchema = z.union([z.string().max(1_000), z.number(), z.boolean()]);

export const templateParameterSchema = z.strictObject({
  type: z.enum(['string', 'number', 'integer', 'boolean']),
  /** Without a default the parameter is required. */
  default: parameterValueSchema.optional(),
  description: z.string().max(500).optional(),
});

export const stackTemplateBodySchema = z.object({
  parameters: z.record(parameterNameSchema, templateParameterSchema).default({}),
  /** Services as in a stack, placeholders allowed anywhere a string is. */
  services: z.array(z.json()).min(1).max(50),
});

/** The parameters a submission gives a template. */
export const templateArgumentsSchema = z.record(parameterNameSchema, parameterValueSchema);

export type StackTemplateBody = z.output<typeof stackTemplateBodySchema>;
type ParameterValue = z.output<typeof parameterValueSchema>;

export type Instantiated = { ok: true; services: StackService[] } | { ok: false; problems: { path: string; message: string }[] };

const WHOLE = /^\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}$/;
const INSIDE = /\$\{([a-zA-Z_][a-zA-Z0-9_]*)\}/g;

function typeProblem(type: z.output<typeof templateParameterSchema>['type'], value: ParameterValue): string | null {
  if (type === 'integer') return Number.isInteger(value) ? null : `must be an integer, got ${JSON.stringify(value)}`;
  return typeof value === type ? null : `must be a ${type}, got ${JSON.stringify(value)}`;
}

export function instantiateTemplate(templateName: string, rawTemplate: unknown, given: Readonly<Record<string, ParameterValue>>): Instantiated {
  const parsed = stackTemplateBodySchema.safeParse(rawTemplate);
  if (!parsed.success) {
    return { ok: false, problems: parsed.error.issues.map((i) => ({ path: `template ${templateName}: ${i.path.join('.')}`, message: i.message })) };
  }
  const declared = parsed.data.parameters;
  const problems: { path: string; message: string }[] = [];
  for (const name of Object.keys(given)) {
    if (!Object.hasOwn(declared, name)) problems.push({ path: `parameters.${name}`, message: `template "${templateName}" has no parameter "${name}"; its parameters: ${Object.keys(declared).join(', ') || '(none)'}` });
  }
  const values = new Map<string, ParameterValue>();
  for (const [name, parameter] of Object.entries(declared)) {
    const value = Object.hasOwn(given, name) ? given[name] : parameter.default;
    if (value === undefined) {
      problems.push({ path: `parameters.${name}`, message: `template "${templateName}" needs parameter "${name}" (${parameter.type})` });
      continue;
    }
    const wrong = typeProblem(parameter.type, value);
    if (wrong !== null) problems.push({ path: `parameters.${name}`, message: wrong });
    else values.set(name, value);
  }
  if (problems.length > 0) return { ok: false, problems };

  const undeclared = new Set<string>();
  const fill = (node: unknown): unknown => {
    if (typeof node === 'string') {
      const whole = WHOLE.exec(node);
      if (whole !== null) {
        const name = whole[1] as string;
        if (!values.has(name)) undeclared.add(name);
        return values.get(name) ?? node;
      }
      return node.replace(INSIDE, (text, name: string) => {
        if (!values.has(name)) undeclared.add(name);
        return values.has(name) ? String(values.get(name)) : text;
      });
    }
    if (Array.isArray(node)) return node.map(fill);
    if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([k, v]) => [k, fill(v)]));
    return node;
  };
  const filled = parsed.data.services.map(fill);
  if (undeclared.size > 0) {
    return { ok: false, problems: [...undeclared].map((name) => ({ path: `template ${templateName}`, message: `uses \${${name}}, which it does not declare` })) };
  }
  const services = z.array(stackServiceSchema).min(1).max(50).safeParse(filled);
  if (!services.success) {
    return { ok: false, problems: services.error.issues.map((i) => ({ path: `services.${i.path.join('.')}`, message: `after instantiating template "${templateName}": ${i.message}` })) };
  }
  if (new Set(services.data.map((s) => s.name)).size !== services.data.length) {
    return { ok: false, problems: [{ path: 'services', message: `template "${templateName}" gives two services one name` }] };
  }
  return { ok: true, services: services.data };
}
