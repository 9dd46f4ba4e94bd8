// `stackl kinds [name]`: the kinds this deployment accepts, as GET /kinds shows them —
// built-in and registered by workers, each action's payload as JSON Schema. Reads the
// registry topic itself, so it answers without the API running.
import { withKindsRead } from '../../processors/registry/follow-kinds.js';
import { describeKinds } from '../../processors/registry/kind-listing.js';
import type { Command } from './command.js';
import { kindsText } from './human.js';
import { configOf, parseFlags, processIo, runCommand, UsageError, type CliIo } from './cli-io.js';

const USAGE = 'stackl kinds [<kind>]';

export function kindsCommand(io: CliIo = processIo): Command {
  return {
    summary: 'list the task kinds the broker accepts (built-in and registered by workers), with their payload schemas',
    run: (args) =>
      runCommand(io, 'kinds', USAGE, args, async (args, output) => {
        const { positionals } = parseFlags(args, {}, { min: 0, max: 1 });
        const config = configOf(io);
        const name = positionals[0];
        const kinds = await withKindsRead(config, (registry) => describeKinds(registry.kinds, registry));
        if (name === undefined) {
          output.result({ kinds }, (k, style) => kindsText(k.kinds, style));
          return 0;
        }
        const kind = kinds.find((k) => k.name === name);
        if (kind === undefined) throw new UsageError(`no kind "${name}"; known kinds: ${kinds.map((k) => k.name).join(', ')}`);
        // A kind's schemas are the point of asking for one: JSON either way, after a summary for people.
        output.result(kind, (k, style) => `${kindsText([k], style)}\n\n${JSON.stringify(k.payloadSchemas, null, 2)}`);
        return 0;
      }),
  };
}
