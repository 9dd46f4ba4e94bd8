// /healthz (the process answers), /readyz (its dependencies answer and the projection
// is fresh), /metrics (Prometheus). Open even when API keys are on: probes and
// scrapers carry no keys; keep these off the public network instead (api/README.md).
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { renderGauge } from '../metrics.js';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem.js';
import { checkReadiness } from '../readiness.js';

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const alive = z.object({ status: z.literal('ok') });
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: alive } } }, async () => ({ status: 'ok' as const }));

  app.get('/readyz', { schema: { tags: ['health'], summary: 'Kafka and PostgreSQL answer and the projection lag is below the limit' } }, async (_request, reply) => {
    const readiness = await checkReadiness(ctx.readiness, ctx.options.readyMaxLag);
    if (readiness.ready) return reply.send(readiness);
    const failing = Object.entries(readiness.checks).filter(([, c]) => !c.ok).map(([name, c]) => `${name}: ${c.error ?? 'failing'}`);
    return reply.status(503).type(PROBLEM_CONTENT_TYPE).send(problem(503, 'NOT_READY', failing.join('; '), { ...readiness }));
  });

  app.get('/metrics', { schema: { tags: ['health'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    // Scrape-time gauges; a dependency that fails leaves its family out rather than failing the scrape.
    const [lag, counts] = await Promise.allSettled([ctx.readiness.lag(), ctx.store.countByStatus()]);
    const parts = [ctx.metrics.render()];
    if (lag.status === 'fulfilled') {
      const samples = [...lag.value].map(([p, n]): [Record<string, string>, number] => [{ partition: String(p) }, n]);
      parts.push(renderGauge('stackl_projection_lag_events', 'Events in task.events the projection has yet to apply.', samples));
    }
    if (counts.status === 'fulfilled') {
      parts.push(renderGauge('stackl_tasks', 'Tasks in the projection by status.', [...counts.value].map(([s, n]) => [{ status: s }, n])));
    }
    const up = (ok: boolean) => (ok ? 1 : 0);
    const sources: Array<[Record<string, string>, number]> = [
      [{ source: 'projection_lag' }, up(lag.status === 'fulfilled')],
      [{ source: 'tasks' }, up(counts.status === 'fulfilled')],
    ];
    parts.push(renderGauge('stackl_api_scrape_source_up', 'Whether each scrape-time source answered.', sources));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${parts.join('\n')}\n`);
  });
};
