// /healthz (the process answers), /readyz (its dependencies answer; per function at
// /readyz/submit and /readyz/read), /metrics (Prometheus). Open even when API keys are
// on: probes and scrapers carry no keys; keep these off the public network instead
// (api/README.md), or put /metrics behind the read scope with STACKL_API_PROTECT_DOCS=1.
import { z } from 'zod';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem.js';
import { checkReadiness, type Readiness } from '../readiness.js';
import type { ZodApp } from './zod-app.js';

export const healthRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  const alive = z.object({ status: z.literal('ok'), broker: z.enum(['kafka', 'custom']).describe('Which broker decides tasks in this deployment') });
  app.get('/healthz', { schema: { tags: ['health'], summary: 'The process is alive', response: { 200: alive } } }, async () => ({ status: 'ok' as const, broker: ctx.broker }));

  registerReadiness(app, ctx, '/readyz', 'Kafka and PostgreSQL answer (each function\'s own readiness is in `functions`)', (r) => ({ ready: r.ready, failing: failingChecks(r, ['kafka', 'postgres']) }));
  registerReadiness(app, ctx, '/readyz/submit', 'Submissions would be accepted: Kafka answers, nothing refuses them (pending commands, backlogs)', (r) => r.functions.submit);
  registerReadiness(app, ctx, '/readyz/read', 'Reads are served fresh: PostgreSQL answers and the projection lag is below the limit', (r) => r.functions.read);

  ctx.metrics.readFrom({
    lag: () => ctx.readiness.lag(),
    countByStatus: () => ctx.store.countByStatus(),
    pending: () => ctx.admission.inFlight,
    shed: () => ({ ...ctx.admission.shed }),
    backlog: () => ctx.admission.readiness().backlog,
  });
  app.get('/metrics', { config: ctx.options.protectDocs ? { scope: 'read' } : {}, schema: { tags: ['health'], summary: 'Prometheus metrics' } }, async (_request, reply) => {
    // Scrape-time gauges: a dependency that fails leaves its family out rather than failing the scrape.
    return reply.type(ctx.metrics.contentType).send(await ctx.metrics.render());
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
