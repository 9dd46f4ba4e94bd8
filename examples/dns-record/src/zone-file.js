// @ts-check
// The "outside world" this kind changes: one text file per zone, one record per line:
//
//   www 300 IN A 192.0.2.10
//
// A real kind would call a DNS provider's API instead. The shape stays the same: read,
// check, keep what is needed to undo the change, then change.
import { mkdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const zoneDir = process.env.DNS_ZONE_DIR ?? join(tmpdir(), 'stackl-dns-zones');

/** `zone` is checked by the kind's schema (DNS labels only), so it is safe as a file name. */
export const zoneFile = (/** @type {string} */ zone) => join(zoneDir, `${zone}.zone`);

/** @returns {Promise<string[] | undefined>} the zone's lines, or undefined when it has no file yet */
export async function readZone(/** @type {string} */ zone) {
  const text = await readFile(zoneFile(zone), 'utf8').catch(missingAsUndefined);
  return text?.split('\n').filter((line) => line !== '');
}

/** Deletes the zone's file when `lines` is undefined. */
export async function writeZone(/** @type {string} */ zone, /** @type {string[] | undefined} */ lines) {
  if (lines === undefined) await rm(zoneFile(zone), { force: true });
  else await writeAtomically(zoneFile(zone), lines.map((line) => `${line}\n`).join(''));
}

/**
 * True when `line` is a record of `name`, and of `type` when one is given.
 * @param {string} line
 * @param {string} name
 * @param {string} [type]
 */
export function isRecordOf(line, name, type) {
  const [lineName, , , lineType] = line.trim().split(/\s+/);
  return lineName === name && (type === undefined || lineType === type);
}

/** The records of `name` and `type`, and where the first stands (the end, when there is none). */
export function recordsOf(/** @type {string[]} */ lines, /** @type {string} */ name, /** @type {string} */ type) {
  const at = lines.findIndex((line) => isRecordOf(line, name, type));
  return { records: lines.filter((line) => isRecordOf(line, name, type)), at: at >= 0 ? at : lines.length };
}

/**
 * The zone with the records of `name` and `type` replaced by `records`, placed where the
 * first old one stood (or at `at`, or at the end when there was none). Run and rollback
 * both edit the zone with it: a rollback is the same edit with the records of before.
 */
export function withRecords(/** @type {string[]} */ lines, /** @type {string} */ name, /** @type {string} */ type, /** @type {string[]} */ records, at = lines.length) {
  const first = lines.findIndex((line) => isRecordOf(line, name, type));
  const rest = lines.filter((line) => !isRecordOf(line, name, type));
  const position = first >= 0 ? first : Math.min(at, rest.length);
  return [...rest.slice(0, position), ...records, ...rest.slice(position)];
}

/**
 * What a task found before it changed a zone: the records it replaced, where they stood,
 * and whether the zone had a file at all.
 * @typedef {{ records: string[], at: number, zoneExisted: boolean }} Backup
 */

/** The backup sits next to the zone, named after the task: the rollback finds it by the task id alone. */
const backupFile = (/** @type {string} */ zone, /** @type {string} */ taskId) => join(zoneDir, `${zone}.${taskId}.backup.json`);

/**
 * Saves `backup` unless the task already has one, and returns the one kept: after a retry,
 * the first attempt's backup is what the zone looked like before the task.
 * @returns {Promise<Backup>}
 */
export async function keepBackup(/** @type {string} */ zone, /** @type {string} */ taskId, /** @type {Backup} */ backup) {
  const earlier = await readBackup(zone, taskId);
  if (earlier !== undefined) return earlier;
  await writeAtomically(backupFile(zone, taskId), JSON.stringify(backup));
  return backup;
}

/** @returns {Promise<Backup | undefined>} */
export async function readBackup(/** @type {string} */ zone, /** @type {string} */ taskId) {
  const text = await readFile(backupFile(zone, taskId), 'utf8').catch(missingAsUndefined);
  return text === undefined ? undefined : JSON.parse(text);
}

export async function dropBackup(/** @type {string} */ zone, /** @type {string} */ taskId) {
  await rm(backupFile(zone, taskId), { force: true });
}

/** The last change of each zone in this process: the next one waits for it. */
const lastChange = new Map();

/**
 * Runs `change` once the changes of `zone` started before it are done: two tasks reading
 * and rewriting one file at once would lose one's record. This orders the tasks of one
 * worker process; several processes would need a lock in the store itself.
 * @template T
 * @param {string} zone
 * @param {() => Promise<T>} change
 * @returns {Promise<T>}
 */
export function oneAtATime(zone, change) {
  const result = (lastChange.get(zone) ?? Promise.resolve()).then(change);
  lastChange.set(zone, result.catch(() => {}));
  return result;
}

/** Written to a temporary file first, then renamed: a crash never leaves half a file. */
async function writeAtomically(/** @type {string} */ path, /** @type {string} */ text) {
  await mkdir(zoneDir, { recursive: true });
  await writeFile(`${path}.tmp`, text);
  await rename(`${path}.tmp`, path);
}

/** For `.catch`: a missing file reads as undefined; any other error stays an error. */
function missingAsUndefined(/** @type {NodeJS.ErrnoException} */ error) {
  if (error.code === 'ENOENT') return undefined;
  throw error;
}
