// What the web console needs beyond the task routes: GET /whoami (the scopes of the
// key presented, so the console hides what the key may not do), GET /dead-letters,
// GET /partitions and GET /stats/throughput. GET /tasks/live is in task-live.ts.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isStacklError, StacklError } from '../../core/errors.js';
import { API_SCOPES, authorize, presentedKey } from '../api-keys.js';
import type { ApiContext } from '../context.js';
import { deadLetterSchema } from '../dead-letters.js';
import { partitionRowSchema } from '../partitions.js';
import { problemSchema } from '../schemas.js';

export const consoleDataRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  app.get(
    '/whoami',
    {
      config: { scope: 'read' },
      schema: { tags: ['console'], summary: 'The scopes of the API key presented (every scope when keys are off)', response: { 200: z.object({ keys: z.boolean(), scopes: z.array(z.enum(API_SCOPES)) }) } },
    },
    async (request) => {
      const keys = ctx.options.apiKeys;
      if (keys === null) return { keys: false, scopes: [...API_SCOPES] };
      return { keys: true, scopes: [...authorize(keys, presentedKey(request.headers), 'read')] };
    },
  );

  app.get(
    '/dead-letters',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['console'],
        summary: 'The newest records of the dead-letter topic, newest first, with their headers as text',
        querystring: z.strictObject({ limit: z.coerce.number().int().min(1).max(500).default(50) }),
        response: { 200: z.object({ items: z.array(deadLetterSchema) }), 501: problemSchema, 503: problemSchema },
      },
    },
    async (request) => {
      const read = ctx.deadLetters;
      if (read === undefined) throw new StacklError('NOT_AVAILABLE', 'this deployment does not read the dead-letter topic through the API', { httpStatus: 501 });
      try {
        return { items: await read(request.query.limit) };
      } catch (error) {
        if (isStacklError(error) && error.code === 'DLQ_READ_TIMEOUT') throw new StacklError('SERVICE_UNAVAILABLE', error.message, { httpStatus: 503, retriable: true });
        throw error;
      }
    },
  );

  app.get(
    '/stats/throughput',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['console'],
        summary: 'Tasks submitted, completed and failed per bucket over the last minutes, and completion latency (p50, p99), from the projection',
        querystring: z.strictObject({ minutes: z.coerce.number().int().min(1).max(60).default(10), bucketSeconds: z.coerce.number().int().min(1).max(600).default(10) }),
        response: {
          200: z.object({
            bucketSeconds: z.number(),
            buckets: z.array(z.object({ at: z.string(), submitted: z.number(), completed: z.number(), failed: z.number() })),
            latencyMs: z.object({ p50: z.number().nullable(), p99: z.number().nullable(), completed: z.number() }),
          }),
          400: problemSchema,
        },
      },
    },
    async (request) => ctx.store.throughput(request.query.minutes, request.query.bucketSeconds),
  );

  app.get(
    '/partitions',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['console'],
        summary: "STACKL's consumer groups (broker, workers, projector): each partition's owner, committed offset, end and lag",
        response: { 200: z.object({ items: z.array(partitionRowSchema) }), 501: problemSchema, 503: problemSchema },
      },
    },
    async () => {
      const read = ctx.partitionReader;
      if (read === undefined) throw new StacklError('NOT_AVAILABLE', 'this deployment does not read consumer groups through the API', { httpStatus: 501 });
      return { items: await read() };
    },
  );
};
