// A stack submitted from a template is checked against the template as it is now, before
// anything reaches Kafka: an unknown template, or parameters it does not declare, lacks or
// types otherwise, are a 422 naming each one. The worker instantiates again when it runs
// (the template may change in between, and producers may bypass the API).
import pg from 'pg';
import { StacklError } from '../core/errors.js';
import { instantiateTemplate, TEMPLATE_PREFIX } from '../processors/lifecycle/kinds/stack-template.js';
import { stackFromTemplatePayloadSchema } from '../processors/lifecycle/kinds/stack.js';

export interface TemplateReader {
  /** The template document's body; undefined when there is none. */
  get(name: string): Promise<unknown>;
}

const UNDEFINED_TABLE = '42P01';

export function pgTemplateReader(pool: pg.Pool, schema: string): TemplateReader {
  const documents = `${pg.escapeIdentifier(schema)}.documents`;
  return {
    async get(name) {
      try {
        const { rows } = await pool.query<{ body: unknown }>(`select body from ${documents} where key = $1`, [`${TEMPLATE_PREFIX}${name}`]);
        return rows[0]?.body;
      } catch (error) {
        // No datastore in this database yet: no template either.
        if ((error as { code?: string }).code === UNDEFINED_TABLE) return undefined;
        throw error;
      }
    },
  };
}

export async function checkStackTemplate(templates: TemplateReader, body: { kind: string; action: string; payload: unknown }): Promise<void> {
  if (body.kind !== 'stack' || (body.action !== 'create' && body.action !== 'update')) return;
  const source = stackFromTemplatePayloadSchema.safeParse(body.payload);
  if (!source.success) return;
  const { template, parameters } = source.data;
  const document = await templates.get(template);
  if (document === undefined) {
    const message = `stack template "${template}" does not exist (document ${TEMPLATE_PREFIX}${template})`;
    throw new StacklError('TEMPLATE_NOT_FOUND', message, { httpStatus: 422, details: { issues: [{ path: 'payload.template', message }] } });
  }
  const instantiated = instantiateTemplate(template, document, parameters);
  if (!instantiated.ok) {
    const issues = instantiated.problems.map((p) => ({ path: p.path.startsWith('parameters.') ? `payload.${p.path}` : p.path, message: p.message }));
    throw new StacklError('INVALID_PARAMETERS', issues.map((i) => i.message).join('; '), { httpStatus: 422, details: { issues } });
  }
}
