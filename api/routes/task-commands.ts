// POST /tasks/:id/cancel and POST /tasks/:id/rollback/retry: operator commands, sent
// to the broker like submissions. Whether they apply is the lifecycle's decision
// (a CommandRejected event in the task's history when they do not).
import type { OperatorRequest, Receipt } from '../../processors/broker/task-broker.js';
import type { ApiContext } from '../context.js';
import { formatPosition } from '../position.js';
import { operatorBodySchema, problemSchema, receiptSchema, taskIdParamsSchema } from '../schemas.js';
import { taskIdOf } from '../task-id.js';
import type { ZodApp } from './zod-app.js';

export function registerTaskCommands(app: ZodApp, ctx: ApiContext): void {
  const command = (url: string, summary: string, send: (id: string, request: OperatorRequest) => Promise<Receipt>) =>
    app.post(
      url,
      {
        config: { scope: 'operate' },
        schema: {
          tags: ['operations'],
          summary,
          params: taskIdParamsSchema,
          body: operatorBodySchema,
          response: { 202: receiptSchema, 400: problemSchema, 415: problemSchema, 503: problemSchema },
        },
      },
      async (request, reply) => {
        const id = taskIdOf(request.params.id);
        const { reason, requestedBy } = request.body ?? {};
        const operator = { ...(reason === undefined ? {} : { reason }), ...(requestedBy === undefined ? {} : { requestedBy }) };
        const receipt = await ctx.admission.send('operate', () => send(id, operator));
        return reply.status(202).header('location', `/tasks/${id}`).send({ id, position: formatPosition(receipt.position) });
      },
    );
  command('/tasks/:id/cancel', 'Cancel a task (queued: fails at once; running: fenced, then rolled back)', (id, r) => ctx.commands.cancel(id, r));
  command('/tasks/:id/rollback/retry', 'Retry the failed rollback of a task', (id, r) => ctx.commands.retryRollback(id, r));
}
