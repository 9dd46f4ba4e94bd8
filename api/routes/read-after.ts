// The read-your-writes part of GET /tasks/:id and /tasks/:id/events.
import { StacklError } from '../../core/errors.js';
import { partitionForKey } from '../../topics/partitioner.js';
import type { ApiContext } from '../context.js';
import { parsePosition } from '../position.js';
import { waitForPosition } from '../read-your-writes.js';

export async function readAfter(ctx: ApiContext, id: string, query: { minPosition?: string | undefined; waitMs?: number | undefined }): Promise<void> {
  if (query.minPosition === undefined) return;
  const position = parsePosition(query.minPosition);
  const home = partitionForKey(id, ctx.partitions);
  // A position elsewhere in the log says nothing about this task: refuse it rather than wait for nothing.
  if (position.partition !== home) {
    const detail = `position ${query.minPosition} is on partition ${position.partition}, task ${id} lives on partition ${home}; pass the position returned for this task`;
    throw new StacklError('POSITION_MISMATCH', detail, { httpStatus: 400 });
  }
  await waitForPosition(ctx.progress, position, Math.min(query.waitMs ?? ctx.options.maxWaitMs, ctx.options.maxWaitMs));
}
