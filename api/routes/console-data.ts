// What the web console needs beyond the task routes: GET /whoami (the scopes of the
// key presented, so the console hides what the key may not do), GET /dead-letters,
// GET /partitions, GET /stats/throughput, and GET /tasks/live (server-sent events, one `data:` line per
// task whose row changed).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isStacklError, StacklError } from '../../core/errors.js';
import { API_SCOPES, authorize, presentedKey } from '../api-keys.js';
import type { ApiContext } from '../context.js';
import { deadLetterSchema } from '../dead-letters.js';
import { partitionRowSchema } from '../partitions.js';
import { problemSchema } from '../schemas.js';
import { TaskChanges } from '../task-changes.js';

/** A comment line this often keeps proxies and the connection timeout from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

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

  // Every open stream, so closing the server ends them instead of waiting for their clients.
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const stop of [...streams]) stop();
  });

  app.get(
    '/tasks/live',
    { config: { scope: 'read' }, schema: { tags: ['tasks'], summary: 'Tasks as they change, as server-sent events (one task per data line)' } },
    async (request, reply) => {
      reply.hijack();
      const out = reply.raw;
      out.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
      out.write('retry: 2000\n\n');
      const changes = new TaskChanges(ctx.store);
      let open = true;
      let timer: NodeJS.Timeout | undefined;
      let quietSince = Date.now();
      const stop = () => {
        if (!open) return;
        open = false;
        clearTimeout(timer);
        streams.delete(stop);
        out.end();
        // The socket served this stream only: close it once the end is written (and at
        // the latest a second later), rather than wait for a client that may be gone, or
        // hold a closing server until it lets go.
        const socket = request.raw.socket;
        socket.destroySoon();
        setTimeout(() => socket.destroy(), 1000).unref();
      };
      streams.add(stop);
      request.raw.socket.on('close', () => stop());
      out.on('close', () => stop());
      const tick = async () => {
        try {
          const changed = await changes.next();
          if (!open) return;
          for (const task of changed) out.write(`data: ${JSON.stringify(task)}\n\n`);
          if (changed.length > 0) quietSince = Date.now();
          else if (Date.now() - quietSince >= KEEP_ALIVE_MS) {
            out.write(': keep-alive\n\n');
            quietSince = Date.now();
          }
        } catch (error) {
          // PostgreSQL away: say so on the stream and try again; the client keeps what it has.
          ctx.log.warn('live tasks: could not read the projection', { error });
          if (open) out.write(`event: problem\ndata: ${JSON.stringify({ code: 'SERVICE_UNAVAILABLE', detail: 'could not read the projection; retrying' })}\n\n`);
        }
        if (open) timer = setTimeout(() => void tick(), ctx.options.livePollMs);
      };
      void tick();
    },
  );
};
