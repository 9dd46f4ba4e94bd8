// Waits until the projection reflects a command at a known position of task.requests,
// so a client reads its own writes and a 404 afterwards really means "no such task".
// Two steps, both bounded by one deadline: (a) the lifecycle processor committed past
// the command (its events are then committed in task.events, in the same transaction);
// (b) the projection reached the end task.events had at that moment. Requests and
// events are co-partitioned, so one partition number serves both topics.
import { StacklError } from '../core/errors.js';
import type { RequestPosition } from './position.js';
import { projectionTarget, type ProjectionProgress } from './projection-progress.js';

const POLL_MS = { first: 10, max: 200 };

export async function waitForPosition(progress: ProjectionProgress, position: RequestPosition, waitMs: number): Promise<void> {
  const deadline = Date.now() + waitMs;
  const behind = (stage: string) =>
    new StacklError('PROJECTION_BEHIND', `the ${stage} had not reached ${position.partition}:${position.offset} after ${waitMs} ms; retry the read`, {
      httpStatus: 504,
      retriable: true,
      details: { stage, partition: position.partition, offset: position.offset.toString() },
    });

  let pause = POLL_MS.first;
  const sleepOrGiveUp = async (stage: string): Promise<void> => {
    const left = deadline - Date.now();
    if (left <= 0) throw behind(stage);
    await new Promise((resolve) => setTimeout(resolve, Math.min(pause, left)));
    pause = Math.min(pause * 2, POLL_MS.max);
  };

  while ((await progress.lifecycleNext(position.partition)) <= position.offset) await sleepOrGiveUp('lifecycle processor');
  const end = (await progress.eventsEnd()).get(position.partition);
  if (end === undefined) throw new StacklError('INVALID_POSITION', `task.events has no partition ${position.partition}`, { httpStatus: 400 });
  const target = progress.markerAtEnd ? projectionTarget(end) : end;
  while (((await progress.projectedNext()).get(position.partition) ?? 0n) < target) await sleepOrGiveUp('projection');
}
