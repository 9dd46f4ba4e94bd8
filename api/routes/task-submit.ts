// POST /tasks and GET /tasks.
import { TRACEPARENT, validTraceparent } from '../../core/trace-context.js';
import type { ApiContext } from '../context.js';
import { formatPosition } from '../position.js';
import { listQuerySchema, problemSchema, receiptSchema, submitBodySchema, taskListSchema } from '../schemas.js';
import { checkStackTemplate } from '../stack-templates.js';
import { checkSubmission, toSubmitRequest } from '../submission-check.js';
import type { ZodApp } from './zod-app.js';

export function registerTaskSubmit(app: ZodApp, ctx: ApiContext): void {
  app.post(
    '/tasks',
    {
      config: { scope: 'submit' },
      schema: {
        tags: ['tasks'],
        summary: 'Submit a task',
        description:
          'Accepted once the requests topic has it (202); the lifecycle processor decides the rest. Pass the returned position to GET /tasks/:id?minPosition= to read your own write. ' +
          '503 OVERLOADED with Retry-After when Kafka is unavailable or too much work waits: send it again later (with an idempotencyKey, safely).',
        body: submitBodySchema,
        response: { 202: receiptSchema, 400: problemSchema, 413: problemSchema, 415: problemSchema, 422: problemSchema, 503: problemSchema },
      },
    },
    async (request, reply) => {
      const body = request.body;
      // A kind registered a moment ago may not have reached this instance yet.
      if (!ctx.kinds.has(body.kind)) await ctx.catalogue?.knows(body.kind);
      checkSubmission({ ...ctx, channel: ctx.options.channel }, body);
      await checkStackTemplate(ctx.templates, body);
      // A W3C traceparent becomes the task's correlation id, unless the body names one.
      const traceparent = validTraceparent(request.headers[TRACEPARENT]);
      const submit = { ...toSubmitRequest(body), ...(body.correlationId === undefined && traceparent !== undefined ? { correlationId: traceparent } : {}) };
      const receipt = await ctx.admission.send('submit', () => ctx.commands.submit(submit));
      return reply.status(202).header('location', `/tasks/${receipt.taskId}`).send({ id: receipt.taskId, position: formatPosition(receipt.position) });
    },
  );

  app.get(
    '/tasks',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['tasks'],
        summary: 'List tasks, newest first',
        querystring: listQuerySchema,
        response: { 200: taskListSchema, 400: problemSchema },
      },
    },
    async (request) => ctx.store.list(request.query),
  );
}
