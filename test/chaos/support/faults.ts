// The fault schedule: every kind of fault the issue names, shuffled by the seed and
// spread over the run (repeated for long runs), and how each is injected. Faults run
// one after another; each waits until what it broke is back, so the next one starts
// from a whole system.
import type { Random } from './random.js';
import { HEARTBEAT_TIMEOUT_MS, type World } from './world.js';

export type FaultKind =
  | 'kill-broker'
  | 'kill-worker'
  | 'kill-relay'
  | 'kill-agent'
  | 'kill-projector'
  | 'kill-api'
  | 'pause-worker'
  | 'restart-kafka'
  | 'restart-postgres'
  | 'restart-redis'
  | 'slow-agent';

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** Which instance, where a role runs twice. */
  instance: number;
  hard: boolean;
}

export interface InjectedFault extends Fault {
  startedAtMs: number;
  tookMs: number;
  error?: string;
}

const ALL: readonly FaultKind[] = ['kill-broker', 'kill-worker', 'kill-relay', 'kill-agent', 'kill-projector', 'kill-api', 'pause-worker', 'restart-kafka', 'restart-postgres', 'restart-redis', 'slow-agent'];

/** Faults from `startMs` to `endMs`, one every `everyMs`, cycling through every kind in a seeded order. */
export function faultSchedule(random: Random, channel: 'kafka' | 'redis', startMs: number, endMs: number, everyMs: number, skip: ReadonlySet<string> = new Set()): Fault[] {
  const unknown = [...skip].filter((k) => !(ALL as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`CHAOS_SKIP_FAULTS names unknown faults ${unknown.join(', ')}; known: ${ALL.join(', ')}`);
  const kinds = ALL.filter((k) => (channel === 'redis' || k !== 'kill-relay') && !skip.has(k));
  const faults: Fault[] = [];
  let cycle: FaultKind[] = [];
  for (let at = startMs; at <= endMs; at += everyMs) {
    if (cycle.length === 0) cycle = random.shuffle(kinds);
    const kind = cycle.shift() as FaultKind;
    faults.push({ atMs: at + random.int(0, Math.floor(everyMs / 4)), kind, instance: random.int(1, 2), hard: random.next() < 0.5 });
  }
  return faults;
}

export async function inject(world: World, fault: Fault): Promise<void> {
  switch (fault.kind) {
    case 'kill-broker':
      return world.role(`broker-${fault.instance}`).kill9();
    case 'kill-worker':
      return world.role(`worker-${fault.instance}`).kill9();
    case 'kill-relay':
      return world.role('relay').kill9();
    case 'kill-agent':
      return world.role('agent').kill9();
    case 'kill-projector':
      return world.role('projector').kill9();
    case 'kill-api':
      return world.role('api').kill9();
    case 'pause-worker':
      // Beyond the heartbeat timeout: the broker gives the attempt up, the worker wakes up late.
      return world.role(`worker-${fault.instance}`).pause(HEARTBEAT_TIMEOUT_MS * 2);
    case 'restart-kafka':
      return world.restartKafka(fault.hard);
    case 'restart-postgres':
      return world.postgres.restart();
    case 'restart-redis':
      return world.restartRedis();
    case 'slow-agent': {
      const agent = world.role('agent');
      await agent.restartWith({ STACKL_AGENT_DELAY_MS: '1500' });
      await new Promise((resolve) => setTimeout(resolve, 10_000));
      return agent.restartWith({});
    }
    default: {
      const never: never = fault.kind;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
}
