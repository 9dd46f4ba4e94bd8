// The one folder the local stack writes to (STACKL_HOME, default `.stackl/` in the
// working directory): Kafka's data, pid files of what `up` started, and every log.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

export interface StackPaths {
  root: string;
  logs: string;
  pids: string;
  kafkaData: string;
  kafkaConfig: string;
  redisData: string;
}

export function stackPaths(stateDir: string): StackPaths {
  const paths: StackPaths = {
    root: stateDir,
    logs: join(stateDir, 'logs'),
    pids: join(stateDir, 'pids'),
    kafkaData: join(stateDir, 'kafka', 'data'),
    kafkaConfig: join(stateDir, 'kafka', 'config'),
    redisData: join(stateDir, 'redis'),
  };
  for (const dir of Object.values(paths)) mkdirSync(dir, { recursive: true });
  return paths;
}
