// @ts-check
// What a dns-record task does (`run`) and how a failed one is undone (`rollback`).
// STACKL calls them with the payload already checked against kind.js.
import { isIPv4, isIPv6 } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { TaskFailure } from 'stackl';
import { dropBackup, isRecordOf, keepBackup, oneAtATime, readBackup, readZone, recordsOf, withRecords, writeZone } from './zone-file.js';

/**
 * @typedef {{ zone: string, name: string, type: 'A' | 'AAAA' | 'CNAME', value?: string, ttl?: number, holdMs?: number, failAfterWrite?: boolean }} Payload
 * @typedef {import('stackl').RunContext} RunContext
 * @typedef {import('stackl').RollbackContext} RollbackContext
 */

/**
 * Upserts or removes the records of one name and type. What it returns is the task's output.
 * @param {Payload} payload
 * @param {RunContext} ctx
 */
export async function run(payload, ctx) {
  const { zone, name, type } = payload;
  // What the task leaves in the zone: one record for upsert, none for remove.
  const records = ctx.action === 'upsert' ? [recordLine(payload)] : [];

  const previous = await oneAtATime(zone, async () => {
    const existing = await readZone(zone); // undefined: the zone has no file yet
    const lines = existing ?? [];
    if (records.length > 0) refuseCnameConflict(lines, payload);
    // Nothing has changed yet; from here on something will. Tell the broker first: an
    // attempt it knows started is one it rolls back if the task fails, whatever happens
    // to this process. Then write nothing for an attempt the broker has given up on
    // (cancelled, past its deadline). A store shared by many worker processes would also
    // take `ctx.attempt` with each write, so a stale attempt elsewhere cannot overwrite a newer one.
    await ctx.beforeChange();
    ctx.signal.throwIfAborted();
    // Keep what the rollback needs before the first write. The backup stays after a success:
    // a success reported too late (after the task timed out) is rolled back all the same.
    const backup = await keepBackup(zone, ctx.taskId, { ...recordsOf(lines, name, type), zoneExisted: existing !== undefined });
    await writeZone(zone, withRecords(lines, name, type, records));
    return backup.records;
  });
  ctx.log.info('zone written', { zone, name, type, records, previous });
  await ctx.progress(50, `${name} ${type} written in ${zone}`);

  if (payload.holdMs !== undefined) await hold(payload.holdMs, ctx);
  // A TaskFailure says whether a retry may help; any other error counts as retriable.
  if (payload.failAfterWrite === true) throw new TaskFailure('failed after writing, as the payload asked (failAfterWrite)', { retriable: false });
  return { zone, name, type, records, previous };
}

/**
 * Puts back the records the task replaced or removed. STACKL may call it more than once,
 * and after a run that wrote nothing: without a backup there is nothing to undo.
 * @param {Payload} payload
 * @param {RollbackContext} ctx
 */
export async function rollback(payload, ctx) {
  const { zone, name, type } = payload;
  const undone = await oneAtATime(zone, async () => {
    const backup = await readBackup(zone, ctx.taskId);
    if (backup === undefined) return false;
    // Only this task's records go back: other records may have changed since, by other tasks.
    const lines = withRecords((await readZone(zone)) ?? [], name, type, backup.records, backup.at);
    await writeZone(zone, lines.length === 0 && !backup.zoneExisted ? undefined : lines);
    // Last: a crash before this line runs the rollback again, which writes the same zone.
    await dropBackup(zone, ctx.taskId);
    return true;
  });
  ctx.log.info(undone ? 'rolled back' : 'nothing to roll back', { zone, name, type });
}

/** The zone file line of an upsert, once its value fits its type. */
function recordLine(/** @type {Payload} */ { name, type, value = '', ttl = 3600 }) {
  const fits = type === 'A' ? isIPv4(value) : type === 'AAAA' ? isIPv6(value) : /^[a-z0-9_-]+(\.[a-z0-9_-]+)*\.?$/.test(value);
  if (!fits) throw new TaskFailure(`"${value}" is not a valid ${type} value`, { retriable: false });
  return `${name} ${ttl} IN ${type} ${value}`;
}

/**
 * A CNAME must be the only record of its name (RFC 1034, 3.6.2). Such a conflict stays
 * however often the task is tried: not retriable, so the task fails and rolls back at once.
 */
function refuseCnameConflict(/** @type {string[]} */ lines, /** @type {Payload} */ { zone, name, type }) {
  const clash = lines.find((line) => isRecordOf(line, name) && !isRecordOf(line, name, type) && (type === 'CNAME' || isRecordOf(line, name, 'CNAME')));
  if (clash !== undefined) throw new TaskFailure(`${zone} has "${clash}": a CNAME must be the only record of its name, so ${name} ${type} cannot be added`, { retriable: false });
}

/**
 * Waits `ms`, as if for the change to propagate. The signal ends it early: a cancel, the
 * task's deadline, or the worker stopping. Then nothing is reported (the broker has
 * already moved on) and the rollback undoes the write.
 */
async function hold(/** @type {number} */ ms, /** @type {RunContext} */ ctx) {
  try {
    await sleep(ms, undefined, { signal: ctx.signal });
  } catch (error) {
    ctx.log.info('aborted', { reason: ctx.signal.reason instanceof Error ? ctx.signal.reason.message : String(ctx.signal.reason) });
    throw error;
  }
}
