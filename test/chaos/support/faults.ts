// The fault schedule: every kind of fault, shuffled by the seed and spread over the
// run (repeated for long runs), and how each is injected. The first pass of the
// schedule holds every kind once, so even a short run covers them all. Faults run one
// after another; after each the injector waits until the world is whole again, so the
// next one starts from a whole system.
import { channelNeedsRelay, type BrokerName } from '../../../core/config.js';
import type { Random } from './random.js';
import { injected, notInjected, type Injection } from './injection.js';
import { HEARTBEAT_TIMEOUT_MS, type Channel, type World } from './world.js';
import type { TcpProxy } from '../../support/tcp-proxy.js';

export const FAULT_KINDS = [
  'kill-broker',
  'kill-worker',
  'kill-relay',
  'kill-agent',
  'kill-projector',
  'kill-api',
  'pause-worker',
  'restart-kafka',
  'restart-postgres',
  'restart-redis',
  'restart-rabbitmq',
  'slow-agent',
  'net-drop-kafka',
  'net-stall-kafka',
  'net-delay-kafka',
  'net-drop-postgres',
  'net-stall-postgres',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

export interface Fault {
  atMs: number;
  kind: FaultKind;
  /** Which instance, where a role runs twice. */
  instance: number;
  hard: boolean;
  /** How long a network fault lasts (a drop: how long new connections are refused after it). */
  durationMs: number;
  /** The per-chunk delay of net-delay-kafka. */
  delayMs: number;
}

export interface InjectedFault extends Fault {
  startedAtMs: number;
  tookMs: number;
  injected: boolean;
  /** What happened, or why nothing did. */
  what: string;
  /** How long after the fault the world was whole again; the error when it never was. */
  recoveredInMs?: number;
  recoveryError?: string;
}

/**
 * What can fail in a custom broker's world: its processes (two brokers sharing the
 * partitions, workers, agent, projector, API), PostgreSQL (the broker's log, inbox, state
 * and outbox: restarted, or the roles' connections dropped or stalled) and RabbitMQ.
 */
const CUSTOM_BROKER_KINDS: ReadonlySet<FaultKind> = new Set<FaultKind>([
  'kill-broker',
  'kill-worker',
  'kill-agent',
  'kill-projector',
  'kill-api',
  'pause-worker',
  'restart-postgres',
  'restart-rabbitmq',
  'slow-agent',
  'net-drop-postgres',
  'net-stall-postgres',
]);

/**
 * The kinds a run on this channel and broker must cover. The relay runs only on the
 * channels behind one (redis, rabbitmq), and only the rabbitmq channel has a RabbitMQ node
 * to restart. With the Kafka broker restart-redis stays on every channel: the world's
 * redis-server runs whatever the channel. The custom broker's world has no Kafka, no relay
 * (the broker sends its outbox to RabbitMQ itself) and no Redis (nothing on the rabbitmq
 * channel uses it), so none of their faults would break anything there.
 */
export function faultKindsFor(channel: Channel, broker: BrokerName = 'kafka'): FaultKind[] {
  if (broker === 'custom') return FAULT_KINDS.filter((k) => CUSTOM_BROKER_KINDS.has(k) && (k !== 'restart-rabbitmq' || channel === 'rabbitmq'));
  return FAULT_KINDS.filter((k) => {
    if (k === 'kill-relay') return channelNeedsRelay(channel);
    if (k === 'restart-rabbitmq') return channel === 'rabbitmq';
    return true;
  });
}

/**
 * Faults from `startMs` to `endMs`, about one every `everyMs`, cycling through every
 * kind in a seeded order. When the span is too short for one of each at that pace, the
 * faults come closer together: every kind is in the schedule at least once.
 */
export function faultSchedule(random: Random, channel: Channel, startMs: number, endMs: number, everyMs: number, skip: ReadonlySet<string> = new Set(), broker: BrokerName = 'kafka'): Fault[] {
  const unknown = [...skip].filter((k) => !(FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`CHAOS_SKIP_FAULTS names unknown faults ${unknown.join(', ')}; known: ${FAULT_KINDS.join(', ')}`);
  const kinds = faultKindsFor(channel, broker).filter((k) => !skip.has(k));
  if (kinds.length === 0) return [];
  const span = Math.max(0, endMs - startMs);
  const count = Math.max(kinds.length, Math.floor(span / everyMs) + 1);
  const step = count > 1 ? Math.min(everyMs, span / (count - 1)) : 0;
  const faults: Fault[] = [];
  let cycle: FaultKind[] = [];
  for (let i = 0; i < count; i++) {
    if (cycle.length === 0) cycle = random.shuffle(kinds);
    const kind = cycle.shift() as FaultKind;
    const atMs = Math.round(startMs + i * step + random.int(0, Math.floor(step / 4)));
    faults.push({ atMs, kind, instance: random.int(1, 2), hard: random.next() < 0.5, durationMs: networkFaultDuration(random, kind), delayMs: random.int(50, 300) });
  }
  return faults;
}

/** Seeded lengths: a stall may outlast the workers' 6 s session, and sometimes the brokers' 10 s. */
function networkFaultDuration(random: Random, kind: FaultKind): number {
  switch (kind) {
    case 'net-drop-kafka':
    case 'net-drop-postgres':
      return random.int(1_000, 4_000);
    case 'net-stall-kafka':
      return random.int(4_000, 12_000);
    case 'net-stall-postgres':
      return random.int(3_000, 10_000);
    case 'net-delay-kafka':
      return 15_000;
    default:
      return 0;
  }
}

export function describeFault(fault: Fault): string {
  const which = fault.kind.endsWith('worker') || fault.kind === 'kill-broker' ? ` #${fault.instance}` : '';
  const how = fault.kind === 'restart-kafka' ? (fault.hard ? ' (kill -9)' : ' (clean stop)') : '';
  const net = fault.kind === 'net-delay-kafka' ? ` (${fault.delayMs} ms per chunk for ${fault.durationMs} ms)` : fault.kind.startsWith('net-') ? ` (${fault.durationMs} ms)` : '';
  return `${fault.kind}${which}${how}${net}`;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export async function inject(world: World, fault: Fault): Promise<Injection> {
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
    case 'restart-postgres': {
      const port = world.postgres.port;
      await world.postgres.restart();
      return injected(`PostgreSQL on ${port}: immediate shutdown, then started again (crash recovery)`);
    }
    case 'restart-redis':
      return world.restartRedis();
    case 'restart-rabbitmq':
      return world.restartRabbit();
    case 'slow-agent': {
      const agent = world.role('agent');
      if (!agent.ready) return notInjected('the agent had no ready process to slow down');
      await agent.restartWith({ STACKL_AGENT_DELAY_MS: '1500' });
      await sleep(10_000);
      await agent.restartWith({});
      return injected('agent restarted with 1.5 s per job for 10 s, then restarted as usual');
    }
    case 'net-drop-kafka':
      return world.kafkaProxy === undefined ? noKafka(world) : dropConnections(world.kafkaProxy, 'Kafka', fault.durationMs);
    case 'net-drop-postgres':
      return dropConnections(world.postgresProxy, 'PostgreSQL', fault.durationMs);
    case 'net-stall-kafka':
      return world.kafkaProxy === undefined ? noKafka(world) : stallConnections(world.kafkaProxy, 'Kafka', fault.durationMs);
    case 'net-stall-postgres':
      return stallConnections(world.postgresProxy, 'PostgreSQL', fault.durationMs);
    case 'net-delay-kafka': {
      const proxy = world.kafkaProxy;
      if (proxy === undefined) return noKafka(world);
      const before = proxy.stats().delayedChunks;
      proxy.setDelay(fault.delayMs);
      await sleep(fault.durationMs);
      proxy.setDelay(0);
      const delayed = proxy.stats().delayedChunks - before;
      return delayed > 0 ? injected(`${delayed} chunks to or from Kafka delayed ${fault.delayMs} ms each for ${fault.durationMs} ms`) : notInjected('no byte crossed the Kafka proxy while the delay was set');
    }
    default: {
      const never: never = fault.kind;
      throw new Error(`unknown fault ${String(never)}`);
    }
  }
}

/** A Kafka fault in a world without Kafka (the custom broker's): nothing to break, so not counted. */
function noKafka(world: World): Injection {
  return notInjected(`no Kafka runs with the ${world.broker} broker`);
}

/** A partition with resets: every open connection dropped, new ones refused for `ms`. */
async function dropConnections(proxy: TcpProxy, service: string, ms: number): Promise<Injection> {
  proxy.refuse(ms);
  const dropped = proxy.dropAll();
  await sleep(ms);
  return dropped > 0 ? injected(`${dropped} connections to ${service} dropped, new ones refused for ${ms} ms`) : notInjected(`no connection to ${service} was open to drop`);
}

/** A link that goes silent: connections stay open, no byte moves either way for `ms`. */
async function stallConnections(proxy: TcpProxy, service: string, ms: number): Promise<Injection> {
  const before = proxy.stats().stalledChunks;
  const open = proxy.stall(ms);
  await sleep(ms + 200);
  const held = proxy.stats().stalledChunks - before;
  return held > 0 ? injected(`${open} connections to ${service} stalled for ${ms} ms (${held} chunks held)`) : notInjected(`no byte to or from ${service} was held by the stall (${open} connections open)`);
}
