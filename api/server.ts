// startApi: the `api` role. Listens on STACKL_API_HOST:STACKL_API_PORT (default
// 127.0.0.1:8080; 0 picks a free port) and stops cleanly: the server first (requests
// in flight finish), then the clients it created.
import type { StacklConfig } from '../core/config.js';
import { createLogger } from '../core/log.js';
import { build, type StacklApi } from './app.js';
import type { ApiDeps } from './context.js';
import { createApiDeps, type OwnedApiDeps } from './deps-factory.js';
import { isLoopbackHost } from './exposure.js';
import { apiOptionsFromEnv, checkApiOptions, type ApiOptions } from './options.js';
import { useConfiguredWireFormat } from '../topics/schema-registration.js';

export interface RunningApi {
  /** Where it listens, e.g. http://127.0.0.1:8080. */
  address: string;
  app: StacklApi;
  stop(): Promise<void>;
}

export interface StartApiOptions {
  /** Ready-made dependencies (the caller closes them), or a factory whose result startApi closes. Default: createApiDeps. */
  deps?: ApiDeps | ((config: StacklConfig, options: ApiOptions) => Promise<OwnedApiDeps>);
  env?: Record<string, string | undefined>;
  /** Overrides of what the environment says (tests listen on port 0). */
  options?: Partial<ApiOptions>;
}

export async function startApi(config: StacklConfig, start: StartApiOptions = {}): Promise<RunningApi> {
  const options: ApiOptions = { ...apiOptionsFromEnv(start.env ?? process.env, config.maxPayloadBytes), ...start.options };
  // Again on what the caller overrode: a host or keys given in code obey the same rules.
  checkApiOptions(options);
  await useConfiguredWireFormat(config);
  const log = createLogger({ component: 'api' });
  if (options.apiKeys === null && !isLoopbackHost(options.host)) log.warn('serving every route without API keys to the network (STACKL_API_INSECURE=1)', { host: options.host });
  const source = start.deps ?? ((c: StacklConfig, o: ApiOptions) => createApiDeps(c, { options: o }));
  const owned: OwnedApiDeps = typeof source === 'function' ? await source(config, options) : { deps: source, close: async () => {} };
  const app = build({ ...owned.deps, options: { ...options, ...owned.deps.options } });
  let address: string;
  try {
    address = await app.listen({ port: options.port, host: options.host });
  } catch (error) {
    await app.close().catch(() => {});
    await owned.close();
    throw error;
  }
  log.info('api listening', { address, apiKeys: options.apiKeys === null ? 'off' : `${options.apiKeys.length} keys` });
  return {
    address,
    app,
    async stop() {
      await app.close();
      await owned.close();
    },
  };
}
