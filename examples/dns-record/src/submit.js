// @ts-check
// Submits one dns-record task through STACKL's REST API and follows it until it settles:
//
//   npm run submit                                    # upsert: www.example.com A 192.0.2.10
//   npm run submit -- upsert '{"zone":"example.com","name":"www","type":"A","value":"192.0.2.20","ttl":300}'
//   npm run submit -- remove '{"zone":"example.com","name":"www","type":"A"}'
//
// STACKL_API_URL: where the API listens (default: where `npm start` puts it).
// STACKL_API_KEY: only when the API asks for keys (STACKL_API_KEYS).
// Exit code 0 when the task completed, 1 otherwise.
/* global fetch -- built into Node.js since 18 */
import { setTimeout as sleep } from 'node:timers/promises';

const api = process.env.STACKL_API_URL ?? 'http://127.0.0.1:8080';
const key = process.env.STACKL_API_KEY;
const [action = 'upsert', payload = '{"zone":"example.com","name":"www","type":"A","value":"192.0.2.10"}'] = process.argv.slice(2);

const submitted = await call('POST', '/tasks', { kind: 'dns-record', action, payload: JSON.parse(payload) });
if (submitted.status !== 202) fail(`the API refused the task (${submitted.status}): ${submitted.body.detail ?? JSON.stringify(submitted.body)}`);
const { id, position } = submitted.body;
console.log(`submitted ${action} as task ${id}`);

let last = '';
const until = Date.now() + 120_000;
while (Date.now() < until) {
  // minPosition: the API answers once its projection (PostgreSQL) has the submission.
  const { status, body: task } = await call('GET', `/tasks/${id}?minPosition=${position}`);
  if (status !== 200 && status !== 504) fail(`reading the task failed (${status}): ${task.detail ?? JSON.stringify(task)}`);
  if (status === 200) {
    const progress = task.status === 'InProgress' && task.progress !== null ? `${task.progress.percent}% ${task.progress.message ?? ''}`.trim() : undefined;
    const now = [task.status, progress, task.rollback && `rollback ${task.rollback}`].filter(Boolean).join(', ');
    if (now !== last) console.log(`  ${now}`);
    last = now;
    if (task.status === 'Completed') {
      console.log(`output: ${JSON.stringify(task.output)}`);
      process.exit(0);
    }
    if (task.status === 'Rejected') fail(`rejected: ${task.rejection?.code} ${task.rejection?.message}`);
    // Failed and rolled back (or its rollback gave up): nothing more happens by itself.
    if (task.status === 'Failed' && (task.rollback === 'done' || task.rollback === 'failed')) fail(`failed: ${task.failure?.message}`);
  }
  await sleep(250); // 504: the projection is behind; otherwise the task is still going
}
fail(`task ${id} did not settle within 2 minutes; follow it with: npx stackl watch ${id}`);

/**
 * @param {string} method
 * @param {string} path
 * @param {unknown} [body]
 * @returns {Promise<{ status: number, body: any }>}
 */
async function call(method, path, body) {
  /** @type {Record<string, string>} */
  const headers = key === undefined ? {} : { 'x-api-key': key };
  if (body !== undefined) headers['content-type'] = 'application/json';
  let response;
  try {
    response = await fetch(`${api}${path}`, { method, headers, ...(body === undefined ? {} : { body: JSON.stringify(body) }) });
  } catch (error) {
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause.message : String(error);
    return fail(`no answer from the API at ${api} (is \`npm start\` running?): ${cause}`);
  }
  return { status: response.status, body: await response.json() };
}

/** @returns {never} */
function fail(/** @type {string} */ message) {
  console.error(message);
  process.exit(1);
}
