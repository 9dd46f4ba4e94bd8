#!/usr/bin/env node
// `stackl`: one entry point for every role and operator command. Commands print
// their result on stdout (JSON where a script may read it); progress goes to stderr.
import { isStacklError } from '../../core/errors.js';
import { HelpRequested, UsageError } from './cli-io.js';
import { commands } from './commands.js';

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
    process.stdout.write(usage());
    return name === undefined ? 2 : 0;
  }
  const command = commands[name];
  if (command === undefined) {
    process.stderr.write(`stackl: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  return command.run(rest);
}

function usage(): string {
  const lines = Object.entries(commands).map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`);
  return `usage: stackl <command> [options]\n\ncommands:\n${lines.join('\n')}\n`;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    const [name] = process.argv.slice(2);
    if (error instanceof HelpRequested) {
      const flags = error.flags.map((flag) => ` [${flag}]`).join('');
      process.stdout.write(`usage: stackl ${name}${flags}\n\n${commands[name ?? '']?.summary ?? ''}\n`);
      process.exit(0);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`stackl ${name}: ${error.message}\n`);
    } else if (isStacklError(error)) {
      process.stderr.write(`stackl: ${error.message} [${error.code}]\n`);
    } else {
      process.stderr.write(`stackl: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    }
    // Exit now: a role started before the failure (`all` starts several) would otherwise
    // keep a process alive that serves nothing.
    process.exit(error instanceof UsageError ? 2 : 1);
  },
);
