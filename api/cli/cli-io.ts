// What the API's CLI commands share: where output goes (injectable, so tests capture
// it), flag parsing with node:util that turns every mistake into a usage error with
// exit code 2, and answers for people or, with --json or when piped, JSON (output.ts).
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { loadConfig, type StacklConfig } from '../../core/config.js';
import { isStacklError, StacklError } from '../../core/errors.js';
import { colorWanted, createOutput, type Output } from './output.js';

export interface CliIo {
  env: Record<string, string | undefined>;
  out(text: string): void;
  err(text: string): void;
  /** Standard output is a terminal: answers are for people unless --json says otherwise. */
  tty?: boolean;
}

export const processIo: CliIo = {
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  tty: process.stdout.isTTY === true,
};

export class UsageError extends StacklError {
  constructor(message: string) {
    super('USAGE', message, { httpStatus: 400 });
  }
}

export function printJson(io: CliIo, value: unknown): void {
  io.out(JSON.stringify(value, null, 2));
}

export function configOf(io: CliIo): StacklConfig {
  return loadConfig(io.env);
}

type Options = NonNullable<ParseArgsConfig['options']>;

/** `--help` given to a command that parses its flags itself: main prints its usage from these. */
export class HelpRequested extends Error {
  constructor(readonly flags: string[]) {
    super('help requested');
  }
}

/** parseArgs in strict mode; unknown flags, missing values and stray arguments become UsageErrors. */
type ParsedFlags<O extends Options> = ReturnType<typeof parseArgs<{ args: string[]; options: O; strict: true; allowPositionals: boolean }>>;

export function parseFlags<O extends Options>(args: string[], options: O, positionals: { min: number; max: number } = { min: 0, max: 0 }): ParsedFlags<O> {
  if (args.includes('--help') || args.includes('-h')) {
    throw new HelpRequested(Object.entries(options).map(([name, option]) => (option.type === 'string' ? `--${name} <value>` : `--${name}`)));
  }
  let parsed: ParsedFlags<O>;
  try {
    parsed = parseArgs({ args, options, strict: true, allowPositionals: positionals.max > 0 });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message.replace(/\. To specify a positional argument.*$/s, '') : String(error));
  }
  const count = parsed.positionals.length;
  if (count < positionals.min) throw new UsageError(`expected ${positionals.min} argument${positionals.min === 1 ? '' : 's'}, got ${count}`);
  if (count > positionals.max) throw new UsageError(`unexpected argument "${parsed.positionals[positionals.max]}"`);
  return parsed;
}

/** An integer flag, or undefined when absent. */
export function intFlag(name: string, value: string | undefined, min = 0): number | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  if (!Number.isSafeInteger(number) || number < min) throw new UsageError(`--${name} must be an integer of at least ${min}, got "${value}"`);
  return number;
}

/** What every command takes besides its own flags. */
const OUTPUT_FLAGS = '[--json | --human]';

/**
 * Runs a command body: --help prints the usage, usage errors print it and exit 2, refusals
 * print their code and exit 1. The body gets its arguments without --json and --human,
 * and the output they chose (by default: for people on a terminal, JSON when piped).
 */
export async function runCommand(io: CliIo, name: string, usage: string, args: string[], body: (args: string[], output: Output) => Promise<number>): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    io.out(`usage: ${usage} ${OUTPUT_FLAGS}`);
    return 0;
  }
  const json = args.includes('--json');
  const human = args.includes('--human');
  if (json && human) {
    io.err(`stackl ${name}: --json and --human exclude each other\nusage: ${usage} ${OUTPUT_FLAGS}`);
    return 2;
  }
  const output = createOutput(io.out, human || (!json && io.tty === true), colorWanted(io.tty === true, io.env));
  try {
    return await body(
      args.filter((arg) => arg !== '--json' && arg !== '--human'),
      output,
    );
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`stackl ${name}: ${error.message}\nusage: ${usage}`);
      return 2;
    }
    if (isStacklError(error) && error.httpStatus < 500) {
      io.err(`stackl ${name}: ${error.message} [${error.code}]`);
      return 1;
    }
    throw error;
  }
}
