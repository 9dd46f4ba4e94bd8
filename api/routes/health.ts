// /healthz (the process answers), /readyz (its dependencies answer; per function at
// /readyz/submit and /readyz/read), /metrics (Prometheus). Open even when API keys are
// on: probes and scrapers carry no keys; keep these off the public network instead
// (api/README.md), or put /metrics behind the read scope with STACKL_API_PROTECT_DOCS=1.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { renderCounter, renderGauge } from '../metrics.js';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem.js';
import { checkReadiness, type Readiness } from '../readiness.js';
import type { ZodApp } from './zod-app.js';

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const alive = z.object({ status: z.literal('ok'), broker: z.enum(['kafka', 'custom']).describe('Which broker decides tasks in this deployment') });
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: alive } } }, async () => ({ status: 'ok' as const, broker: ctx.broker }));

  registerReadiness(app, ctx, '/readyz', 'Kafka and PostgreSQL answer (each function\'s own readiness is in `functions`)', (r) => ({ ready: r.ready, failing: failingChecks(r, ['kafka', 'postgres']) }));
  registerReadiness(app, ctx, '/readyz/submit', 'Submissions would be accepted: Kafka answers, nothing refuses them (pending commands, backlogs)', (r) => r.functions.submit);
  registerReadiness(app, ctx, '/readyz/read', 'Reads are served fresh: PostgreSQL answers and the projection lag is below the limit', (r) => r.functions.read);

  app.get('/metrics', { config: ctx.options.protectDocs ? { scope: 'read' } : {}, schema: { tags: ['health'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
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
    parts.push(...admissionMetrics(ctx));
    const up = (ok: boolean) => (ok ? 1 : 0);
    const sources: Array<[Record<string, string>, number]> = [
      [{ source: 'projection_lag' }, up(lag.status === 'fulfilled')],
      [{ source: 'tasks' }, up(counts.status === 'fulfilled')],
    ];
    parts.push(renderGauge('stackl_api_scrape_source_up', 'Whether each scrape-time source answered.', sources));
    return reply.type('text/plain; version=0.0.4; charset=utf-8').send(`${parts.join('\n')}\n`);
  });
};

function registerReadiness(app: ZodApp, ctx: ApiContext, url: string, summary: string, verdict: (r: Readiness) => { ready: boolean; failing: string[] }): void {
  app.get(url, { schema: { tags: ['health'], summary } }, async (_request, reply) => {
    const readiness = await checkReadiness(ctx.readiness, ctx.options.readyMaxLag, () => ctx.admission.readiness());
    const { ready, failing } = verdict(readiness);
    if (ready) return reply.send(readiness);
    return reply.status(503).type(PROBLEM_CONTENT_TYPE).send(problem(503, 'NOT_READY', failing.join('; '), { ...readiness }));
  });
}

function failingChecks(readiness: Readiness, names: Array<keyof Readiness['checks']>): string[] {
  return names.filter((n) => !readiness.checks[n].ok).map((n) => `${n}: ${readiness.checks[n].error ?? 'failing'}`);
}

function admissionMetrics(ctx: ApiContext): string[] {
  const { admission } = ctx;
  const state = admission.readiness();
  const parts = [
    renderGauge('stackl_api_pending_commands', 'Commands waiting for Kafka to acknowledge them.', [[{}, admission.inFlight]]),
    renderCounter('stackl_api_shed_total', 'Commands refused with 503 OVERLOADED, by reason.', Object.entries(admission.shed).map(([reason, n]) => [{ reason }, n])),
  ];
  if (state.backlog !== undefined) {
    const { requests, orders } = state.backlog;
    parts.push(renderGauge('stackl_api_backlog', 'Work waiting in Kafka as the API last read it: requests for the broker, orders for a worker.', [[{ stage: 'requests' }, requests], [{ stage: 'orders' }, orders]]));
  }
  return parts;
}
