// `--targets`: which infrastructure targets an agent serves. A comma-separated list of
// names or globs (`*` matches any run of characters), e.g. `eu-*,lab-1`.
import { ConfigError } from '../core/errors.js';

export function targetSelector(spec: string): (target: string) => boolean {
  const patterns = spec
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (patterns.length === 0) throw new ConfigError('an agent needs --targets: a comma-separated list of target names or globs such as "eu-*"');
  for (const pattern of patterns) {
    if (!/^[a-z0-9*][a-z0-9._*-]*$/.test(pattern)) throw new ConfigError(`"${pattern}" is not a target name or glob (lower-case letters, digits, . _ - and *)`);
  }
  const expressions = patterns.map((p) => new RegExp(`^${p.replace(/[.]/g, '\\.').replace(/\*/g, '.*')}$`));
  return (target) => expressions.some((e) => e.test(target));
}
