// GET /kinds and GET /kinds/{name}: the kinds this deployment accepts, built-in and
// registered by workers, with each action's payload as JSON Schema.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { StacklError } from '../../core/errors.js';
import { describeKinds, kindDescriptionSchema } from '../../processors/registry/kind-listing.js';
import type { ApiContext } from '../context.js';
import { problemSchema } from '../schemas.js';

export const kindRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/kinds',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['kinds'],
        summary: 'List the task kinds this deployment accepts',
        description: 'Built-in kinds and those registered by workers (issue 17), each with its actions, the JSON Schema of each payload, its rollback mode and defaults.',
        response: { 200: z.object({ kinds: z.array(kindDescriptionSchema) }) },
      },
    },
    async () => {
      // Whatever workers registered up to now, not only what this instance happened to read.
      await ctx.catalogue?.catchUp().catch((error: unknown) => ctx.log.warn('could not catch up with the kind registry', { error }));
      return { kinds: describeKinds(ctx.kinds, ctx.catalogue) };
    },
  );

  app.get(
    '/kinds/:name',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['kinds'],
        summary: 'One task kind',
        params: z.object({ name: z.string().max(200) }),
        response: { 200: kindDescriptionSchema, 404: problemSchema },
      },
    },
    async (request) => {
      const { name } = request.params;
      if (!ctx.kinds.has(name)) await ctx.catalogue?.knows(name);
      const kind = describeKinds(ctx.kinds, ctx.catalogue).find((k) => k.name === name);
      if (kind === undefined) throw new StacklError('KIND_NOT_FOUND', `no kind "${name}"; known kinds: ${[...ctx.kinds.keys()].join(', ')}`, { httpStatus: 404, details: { knownKinds: [...ctx.kinds.keys()] } });
      return kind;
    },
  );
};
