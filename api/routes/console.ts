// GET /ui and /ui/*: the web console's built files (npm run build → dist/ui). They hold
// no data, so they need no key; every call the console makes for data does. A path is
// resolved inside the console's folder and refused when it would leave it.
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import { extname, resolve, sep } from 'node:path';
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { problem, PROBLEM_CONTENT_TYPE } from '../problem.js';

/** The console loads only its own files and talks only to this API: anything else a page tries is refused. */
const CSP = "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.map': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

export const consoleRoutes: FastifyPluginAsync<{ root: string }> = async (app, { root }) => {
  const base = resolve(root);
  const send = async (request: FastifyRequest, reply: FastifyReply, relative: string) => {
    const missing = (detail: string) => reply.status(404).type(PROBLEM_CONTENT_TYPE).send({ ...problem(404, 'NOT_FOUND', detail), instance: request.url });
    const indexStat = await stat(resolve(base, 'index.html')).catch(() => null);
    if (indexStat === null) return missing('the web console is not built: run npm run build');
    // The router has decoded the path already; a NUL or a step outside the folder is never a file of ours.
    const file = resolve(base, relative === '' ? 'index.html' : relative);
    if (relative.includes('\0') || !file.startsWith(base + sep)) return missing(`no console file ${request.url.split('?')[0]}`);
    const info = await stat(file).catch(() => null);
    if (info === null || !info.isFile()) return missing(`no console file ${request.url.split('?')[0]}`);
    const type = CONTENT_TYPES[extname(file).toLowerCase()] ?? 'application/octet-stream';
    // Vite names assets by their content hash: they never change. index.html names the current ones.
    const cache = relative.startsWith('assets/') ? 'public, max-age=31536000, immutable' : 'no-cache';
    return reply.type(type).header('cache-control', cache).header('x-content-type-options', 'nosniff').header('content-security-policy', CSP).header('content-length', info.size).send(createReadStream(file));
  };
  const hidden = { schema: { hide: true } };
  app.get('/ui', hidden, (request, reply) => send(request, reply, ''));
  app.get('/ui/', hidden, (request, reply) => send(request, reply, ''));
  app.get<{ Params: { '*': string } }>('/ui/*', hidden, (request, reply) => send(request, reply, request.params['*']));
};
