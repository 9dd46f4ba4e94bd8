// `stackl list`: tasks from PostgreSQL with the filters of GET /tasks, newest first.
import { z } from 'zod';
import { listQuerySchema } from '../schemas.js';
import type { Command } from './command.js';
import { taskListText } from './human.js';
import { configOf, parseFlags, processIo, runCommand, UsageError, type CliIo } from './cli-io.js';
import { withReadDeps } from './read-deps.js';

const USAGE =
  'stackl list [--status <status>] [--kind <kind>] [--rollback <status>] [--origin <target>] ' +
  '[--created-after <iso>] [--created-before <iso>] [--limit <1-500>] [--cursor <cursor>]';

export function listCommand(io: CliIo = processIo): Command {
  return {
    summary: 'list tasks from PostgreSQL, newest first (filters as GET /tasks; prints items and nextCursor)',
    run: (args) =>
      runCommand(io, 'list', USAGE, args, async (args, output) => {
        const flag = { type: 'string' } as const;
        const { values } = parseFlags(args, {
          status: flag, kind: flag, rollback: flag, origin: flag, 'created-after': flag, 'created-before': flag, limit: flag, cursor: flag,
        });
        const query = {
          status: values.status, kind: values.kind, rollback: values.rollback, origin: values.origin,
          createdAfter: values['created-after'], createdBefore: values['created-before'], limit: values.limit, cursor: values.cursor,
        };
        const parsed = listQuerySchema.safeParse(Object.fromEntries(Object.entries(query).filter(([, v]) => v !== undefined)));
        if (!parsed.success) throw new UsageError(z.prettifyError(parsed.error).replace(/\n/g, ' '));
        const page = await withReadDeps(configOf(io), ({ store }) => store.list(parsed.data));
        output.result(page, (p, style) => taskListText(p, style));
        return 0;
      }),
  };
}
