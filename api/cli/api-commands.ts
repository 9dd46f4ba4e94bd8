// The CLI commands of the API layer, for api/cli/commands.ts to register. `status`
// answers both ways: with a task id it shows the task, without one the stack.
import type { Command } from './command.js';
import { apiRoleCommand } from './api-role-command.js';
import { auditCommand } from './audit-command.js';
import { dlqCommand } from './dlq-command.js';
import { kindsCommand } from './kinds-command.js';
import { listCommand } from './list-command.js';
import { statusCommand } from './status-command.js';
import { submitCommand } from './submit-command.js';
import { watchCommand } from './watch-command.js';

export const apiCommands: Record<string, Command> = {
  api: apiRoleCommand(),
  submit: submitCommand(),
  status: statusCommand(),
  list: listCommand(),
  audit: auditCommand(),
  dlq: dlqCommand(),
  watch: watchCommand(),
  kinds: kindsCommand(),
};
