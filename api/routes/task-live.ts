// GET /tasks/live: server-sent events, one `data:` line per task whose projected row
// changed, read from PostgreSQL every livePollMs by one feed all streams share (a stream
// first gets what changed in the moments before it connected, on its own look). A
// stream ends when its client goes away, and every open one when the server closes, so
// app.close() never waits on them.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { LiveFeed, type LiveEvent } from '../live-feed.js';
import type { TaskBody } from '../schemas.js';
import { TaskChanges } from '../task-changes.js';

/** A comment line this often (or at half the connection timeout, if shorter) keeps proxies and the server's own timeout from closing a quiet stream. */
const KEEP_ALIVE_MS = 15_000;

export const taskLiveRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const keepAliveMs = Math.min(KEEP_ALIVE_MS, Math.floor(ctx.options.connectionTimeoutMs / 2));
  const feed = new LiveFeed(ctx.store, ctx.options.livePollMs);
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
      let open = true;
      let quietSince = Date.now();
      const send = (tasks: TaskBody[]) => {
        for (const task of tasks) out.write(`data: ${JSON.stringify(task)}\n\n`);
        if (tasks.length > 0) quietSince = Date.now();
        else if (Date.now() - quietSince >= keepAliveMs) {
          out.write(': keep-alive\n\n');
          quietSince = Date.now();
        }
      };
      const onEvent = (event: LiveEvent) => {
        if (!open) return;
        if ('tasks' in event) return send(event.tasks);
        // PostgreSQL away: say so on the stream and go on; the client keeps what it has.
        ctx.log.warn('live tasks: could not read the projection', { error: event.error });
        out.write(`event: problem\ndata: ${JSON.stringify({ code: 'SERVICE_UNAVAILABLE', detail: 'could not read the projection; retrying' })}\n\n`);
      };
      const unsubscribe = feed.subscribe(onEvent);
      const stop = () => {
        if (!open) return;
        open = false;
        unsubscribe();
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
      // The shared feed may have started long ago: this client also gets what changed just before it connected.
      new TaskChanges(ctx.store).next().then(
        (tasks) => open && tasks.length > 0 && send(tasks),
        (error: unknown) => onEvent({ error }),
      );
    },
  );
};
