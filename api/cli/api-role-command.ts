// `stackl api`: the REST API role, until SIGINT or SIGTERM.
import { startApi } from '../server.js';
import { startProcessMetrics } from '../../core/metrics.js';
import type { Command } from './command.js';
import { configOf, parseFlags, processIo, runCommand, type CliIo } from './cli-io.js';
import { runUntilSignal } from './run-until-signal.js';

export function apiRoleCommand(io: CliIo = processIo): Command {
  return {
    summary: 'run the REST API (STACKL_API_HOST:STACKL_API_PORT, default 127.0.0.1:8080; OpenAPI at /docs)',
    run: (args) =>
      runCommand(io, 'api', 'stackl api', args, async (args) => {
        parseFlags(args, {});
        startProcessMetrics('api');
        const api = await startApi(configOf(io), { env: io.env });
        io.err(`stackl: api listening on ${api.address} (docs at ${api.address}/docs)`);
        return runUntilSignal('api', [api]);
      }),
  };
}
