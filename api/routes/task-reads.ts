// GET /tasks/:id and GET /tasks/:id/events, from the projection in PostgreSQL.
import type { ApiContext } from '../context.js';
import { problemSchema, readQuerySchema, taskEventsSchema, taskIdParamsSchema, taskSchema } from '../schemas.js';
import { taskIdOf, taskNotFound } from '../task-id.js';
import { readAfter } from './read-after.js';
import type { ZodApp } from './zod-app.js';

const errors = { 400: problemSchema, 404: problemSchema, 504: problemSchema };

export function registerTaskReads(app: ZodApp, ctx: ApiContext): void {
  app.get(
    '/tasks/:id',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['tasks'],
        summary: 'One task, as projected',
        description: 'With minPosition, waits (bounded) until the projection has seen that command; 504 PROJECTION_BEHIND when it has not, so a 404 always means the task does not exist.',
        params: taskIdParamsSchema,
        querystring: readQuerySchema,
        response: { 200: taskSchema, ...errors },
      },
    },
    async (request) => {
      const id = taskIdOf(request.params.id);
      await readAfter(ctx, id, request.query);
      const task = await ctx.store.get(id);
      if (task === null) throw taskNotFound(id);
      return task;
    },
  );

  app.get(
    '/tasks/:id/events',
    {
      config: { scope: 'read' },
      schema: {
        tags: ['tasks'],
        summary: 'Every event of a task, in order',
        params: taskIdParamsSchema,
        querystring: readQuerySchema,
        response: { 200: taskEventsSchema, ...errors },
      },
    },
    async (request) => {
      const id = taskIdOf(request.params.id);
      await readAfter(ctx, id, request.query);
      const items = await ctx.store.events(id);
      if (items.length === 0 && !(await ctx.store.exists(id))) throw taskNotFound(id);
      return { id, items };
    },
  );
}
