// The tasks resource: submit and list, one task and its history, operator commands.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { ApiContext } from '../context.js';
import { registerTaskCommands } from './task-commands.js';
import { registerTaskReads } from './task-reads.js';
import { registerTaskSubmit } from './task-submit.js';

export const taskRoutes: FastifyPluginAsyncZod<{ ctx: ApiContext }> = async (app, { ctx }) => {
  registerTaskSubmit(app, ctx);
  registerTaskReads(app, ctx);
  registerTaskCommands(app, ctx);
};
