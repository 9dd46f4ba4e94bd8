// build(deps): the REST API as a fastify instance, apart from listen() so tests run
// it through inject(). Zod validates requests and serializes responses; the same
// schemas become the OpenAPI document served at /docs. Timeouts bound what a slow or
// silent client can hold: the whole request must arrive within requestTimeout, a
// socket silent for connectionTimeout is closed, an idle keep-alive one after keepAliveTimeout.
import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { pinoLogger } from '../core/log.js';
import { authorize, presentedKey, type ApiKey } from './api-keys.js';
import { createContext, type ApiDeps } from './context.js';
import { toProblem } from './error-mapping.js';
import { requireJsonCommands } from './json-commands.js';
import { problem, PROBLEM_CONTENT_TYPE } from './problem.js';
import { consoleRoutes } from './routes/console.js';
import { consoleDataRoutes } from './routes/console-data.js';
import { kindRoutes } from './routes/kinds.js';
import { healthRoutes } from './routes/health.js';
import { taskLiveRoutes } from './routes/task-live.js';
import { taskRoutes } from './routes/tasks.js';

export type { ApiDeps } from './context.js';

export function build(deps: ApiDeps) {
  const ctx = createContext(deps);
  const { options, log } = ctx;
  const app = Fastify({
    // fastify logs each request it answered (method, URL, status, time; never headers) only when asked.
    ...(options.accessLog ? { loggerInstance: pinoLogger({ component: 'api', log: 'access' }) } : { logger: false }),
    disableRequestLogging: !options.accessLog,
    bodyLimit: options.bodyLimit,
    return503OnClosing: true,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.connectionTimeoutMs,
    keepAliveTimeout: options.keepAliveTimeoutMs,
    // Given to Node at creation too: set only afterwards (as fastify does), a request whose
    // body stalls was never timed out (Node keeps its 60 s header timeout above it); and
    // checked every second rather than every 30 s, so a slow client gets no 30 s more.
    http: { requestTimeout: options.requestTimeoutMs, connectionsCheckingInterval: Math.min(1000, options.requestTimeoutMs) },
  }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  // JSON only: every other content type is 415. An empty JSON body means "no body" (cancel
  // and retry take an optional one); anything else goes through fastify's own parser,
  // which refuses prototype poisoning.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') done(null, undefined);
    else parseJson(request, text, done);
  });

  app.setErrorHandler((error, request, reply) => {
    const answer = toProblem(error, { bodyLimit: options.bodyLimit });
    // Our bugs are errors; a dependency that is down or behind (503, 504) is a warning the probes also report.
    // Shed requests are counted (/metrics), not logged one by one: under overload that would be the load.
    if (answer.status === 500) log.error('request failed', { method: request.method, url: request.url, error });
    else if (answer.status > 500 && answer.code !== 'OVERLOADED') log.warn('request not served', { method: request.method, url: request.url, code: answer.code });
    if (answer.status === 401) void reply.header('www-authenticate', 'Bearer');
    // Every 503 says when to come back: a shed request (OVERLOADED) and a dependency away alike.
    if (answer.status === 503) void reply.header('retry-after', String(typeof answer.retryAfterSeconds === 'number' ? answer.retryAfterSeconds : options.retryAfterSeconds));
    return reply.status(answer.status).type(PROBLEM_CONTENT_TYPE).send({ ...answer, instance: request.url });
  });
  app.setNotFoundHandler((request, reply) =>
    reply.status(404).type(PROBLEM_CONTENT_TYPE).send({ ...problem(404, 'ROUTE_NOT_FOUND', `no route ${request.method} ${request.url.split('?')[0]}`), instance: request.url }),
  );

  const keys = options.apiKeys;
  if (keys !== null) {
    app.addHook('onRequest', async (request) => {
      const scope = request.routeOptions.config.scope;
      if (scope !== undefined) authorize(keys, presentedKey(request.headers), scope);
    });
  }
  // After the key check, so a caller without a key learns nothing more.
  app.addHook('onRequest', requireJsonCommands);
  app.addHook('onResponse', async (request, reply) => {
    ctx.metrics.observe(request.method, request.routeOptions.url ?? 'unmatched', reply.statusCode, reply.elapsedTime / 1000);
  });

  app.register(fastifySwagger, {
    openapi: {
      info: { title: 'STACKL', description: 'Submit atomic tasks and follow them to completion or rollback.', version: '0.1.0' },
      components: { securitySchemes: { apiKey: { type: 'http', scheme: 'bearer', description: 'only when STACKL_API_KEYS is set' } } },
    },
    transform: jsonSchemaTransform,
  });
  app.register(fastifySwaggerUi, { routePrefix: '/docs', ...(options.protectDocs && keys !== null ? { uiHooks: { onRequest: readScope(keys) } } : {}) });
  app.register(taskRoutes, { ctx });
  app.register(kindRoutes, { ctx });
  app.register(healthRoutes, { ctx });
  app.register(taskLiveRoutes, { ctx });
  app.register(consoleDataRoutes, { ctx });
  app.register(consoleRoutes, { root: options.consoleRoot });
  return app;
}

export type StacklApi = ReturnType<typeof build>;

/** STACKL_API_PROTECT_DOCS: /docs and /docs/json (the swagger UI's own routes) need the read scope. */
function readScope(keys: readonly ApiKey[]) {
  return (request: FastifyRequest, _reply: FastifyReply, done: (error?: Error) => void): void => {
    try {
      authorize(keys, presentedKey(request.headers), 'read');
      done();
    } catch (error) {
      done(error as Error);
    }
  };
}
