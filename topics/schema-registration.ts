// With STACKL_SCHEMA_REGISTRY_URL set, a role registers the Avro schema of every topic it may
// write before it writes anything, under the Confluent default subject `<topic>-value` with
// BACKWARD compatibility, and from then on this process writes Confluent framing with the ids
// it got (schemas/process-codec.ts). A registry that refuses a schema (incompatible with what the
// subject holds) stops the role at start with the registry's reason: running on would write
// records its other readers cannot read. Without the variable nothing changes: single-object
// encoding, no registry.
import registryClient from '@kafkajs/confluent-schema-registry';
import { TimeoutMiddleware } from 'mappersmith/middleware';
import type { StacklConfig } from '../core/config.js';
import { ConfigError, ServiceUnavailableError } from '../core/errors.js';
import { confluentSchemaResolver, readWithRegistry, topicSchemas, writeWithRegistryIds, type EnvelopeName } from '../schemas/index.js';
import { topicNames, type TopicNames } from './names.js';

const { SchemaRegistry, SchemaType, COMPATIBILITY } = registryClient;

/** The envelope each STACKL topic carries; the dead-letter topic holds copies of any, so it has none. */
const ENVELOPE_OF: { readonly [T in keyof TopicNames]?: EnvelopeName } = {
  requests: 'TaskRequest',
  results: 'TaskResult',
  dispatch: 'TaskDispatch',
  rollbacks: 'TaskDispatch',
  notifications: 'TaskDispatch',
  events: 'TaskEvent',
};

export interface SubjectRegistration {
  subject: string;
  envelope: EnvelopeName;
  id: number;
}

/** How long a role waits for a registry that does not answer before it gives up (a blip at start is ridden out). */
const PATIENCE_MS = 30_000;
/**
 * Longest one registry request may take. The client sets none, so a registry that accepts the
 * connection and never answers would hold a role's start, or a partition's decoding, for ever.
 */
const REQUEST_TIMEOUT_MS = 10_000;

/** A middleware as the client's constructor types it (from mappersmith's CommonJS declarations). */
type ClientMiddleware = NonNullable<ConstructorParameters<typeof SchemaRegistry>[0]['middlewares']>[number];

/** A client of the registry at `url` whose every request ends within REQUEST_TIMEOUT_MS. */
export function registryClientFor(url: string): InstanceType<typeof SchemaRegistry> {
  // The same function either way; only its declared type differs between mappersmith's ESM and CommonJS builds.
  const timeout = TimeoutMiddleware(REQUEST_TIMEOUT_MS) as unknown as ClientMiddleware;
  return new SchemaRegistry({ host: url, clientId: 'stackl', middlewares: [timeout] });
}

export function subjectOf(topic: string): string {
  return `${topic}-value`;
}

/** The subjects a deployment with this prefix registers, and the envelope of each. */
export function registrySubjects(topicPrefix: string): { subject: string; envelope: EnvelopeName }[] {
  const names = topicNames(topicPrefix);
  return Object.entries(ENVELOPE_OF).map(([topic, envelope]) => ({ subject: subjectOf(names[topic as keyof TopicNames]), envelope: envelope as EnvelopeName }));
}

function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/** The client does not export its error classes; it names them. */
function isCompatibilityMismatch(error: unknown): boolean {
  return (error as Error | null)?.name === 'ConfluentSchemaRegistryCompatibilityError';
}

/**
 * The client reports a connection that failed, or a request that timed out, as an HTTP 400
 * whose text is the socket error (mappersmith's way); a registry's own 400 carries its JSON
 * message instead.
 */
const SOCKET_FAILURE = /\b(ECONN\w+|ETIMEDOUT|EHOSTUNREACH|ENETUNREACH|EPIPE|EAI_AGAIN|ENOTFOUND|socket hang up)\b|Timeout \(\d+ms\)/;

function isTransient(error: unknown): boolean {
  // The client's own refusals (a compatibility mismatch, a schema it finds invalid) are final.
  if ((error as Error | null)?.name?.startsWith('ConfluentSchemaRegistry') === true) return false;
  const status = statusOf(error);
  if (status === 400 && SOCKET_FAILURE.test((error as Error).message)) return true;
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

function refusal(url: string, subject: string, envelope: EnvelopeName, error: unknown): Error {
  const reason = (error as Error).message;
  if (isCompatibilityMismatch(error)) {
    return new ConfigError(
      `schema registry ${url}: subject ${subject} is not set to BACKWARD compatibility (${reason}); STACKL registers its schemas under BACKWARD only — set the subject's compatibility to BACKWARD or use another STACKL_TOPIC_PREFIX`,
      { subject },
    );
  }
  if (statusOf(error) === 409) {
    return new ConfigError(
      `schema registry ${url} refuses stackl.v1.${envelope} for subject ${subject}: it is not BACKWARD compatible with the schema registered there (registry: ${reason}). A STACKL release only adds fields with defaults, so the subject holds a schema that is not STACKL's or was changed by hand: use another STACKL_TOPIC_PREFIX, or delete the subject if nothing needs its records`,
      { subject, envelope },
    );
  }
  return new ConfigError(`schema registry ${url} refuses stackl.v1.${envelope} for subject ${subject} (HTTP ${statusOf(error) ?? '?'}): ${reason}`, { subject, envelope });
}

async function registerOne(registry: InstanceType<typeof SchemaRegistry>, url: string, subject: string, envelope: EnvelopeName, patienceMs: number): Promise<number> {
  const schema = JSON.stringify(topicSchemas[envelope].avroSchema);
  const giveUpAt = Date.now() + patienceMs;
  for (let pause = 250; ; pause = Math.min(pause * 2, 4_000)) {
    try {
      const { id } = await registry.register({ type: SchemaType.AVRO, schema }, { subject, compatibility: COMPATIBILITY.BACKWARD });
      return id;
    } catch (error) {
      if (!isTransient(error)) throw refusal(url, subject, envelope, error);
      if (Date.now() + pause > giveUpAt) {
        throw new ServiceUnavailableError('schema-registry', `schema registry ${url} did not answer for ${patienceMs / 1000} s while registering ${subject}: ${(error as Error).message}`, error);
      }
      await new Promise((resolve) => setTimeout(resolve, pause));
    }
  }
}

/** Registers every subject of the deployment; the ids, in subject order. Throws ConfigError on a refusal. */
export async function registerTopicSchemas(url: string, topicPrefix: string, patienceMs = PATIENCE_MS): Promise<SubjectRegistration[]> {
  const registry = registryClientFor(url);
  const registered: SubjectRegistration[] = [];
  for (const { subject, envelope } of registrySubjects(topicPrefix)) {
    registered.push({ subject, envelope, id: await registerOne(registry, url, subject, envelope, patienceMs) });
  }
  return registered;
}

const prepared = new Map<string, Promise<SubjectRegistration[]>>();

/**
 * Called by every role before it produces or consumes: with a registry configured, registers
 * the deployment's schemas (once per process, whatever the number of roles in it) and makes
 * this process write Confluent framing. Without one, does nothing.
 */
export function useConfiguredWireFormat(config: Pick<StacklConfig, 'schemaRegistryUrl' | 'topicPrefix'>): Promise<SubjectRegistration[]> {
  const url = config.schemaRegistryUrl;
  if (url === undefined) return Promise.resolve([]);
  const key = `${url} ${config.topicPrefix}`;
  let ready = prepared.get(key);
  if (!ready) {
    ready = (async () => {
      const registered = await registerTopicSchemas(url, config.topicPrefix);
      // Same schema, same content: a registry gives one id for it under every subject; should one
      // not, any of them names the same writer schema, which is all a reader needs.
      const ids = new Map<EnvelopeName, number>();
      for (const { envelope, id } of registered) if (!ids.has(envelope)) ids.set(envelope, id);
      writeWithRegistryIds(ids, confluentSchemaResolver(registryClientFor(url)));
      return registered;
    })();
    prepared.set(key, ready);
    // A refused or unreachable registry is retried by the next role that starts, not remembered.
    ready.catch(() => prepared.delete(key));
  }
  return ready;
}

/**
 * For commands that only read records (replay, `stackl dlq`, partition history): with a registry
 * configured, Confluent-framed records are resolved through it; nothing is registered.
 */
export function useConfiguredReader(config: Pick<StacklConfig, 'schemaRegistryUrl'>): void {
  const url = config.schemaRegistryUrl;
  if (url === undefined || prepared.size > 0) return;
  readWithRegistry(confluentSchemaResolver(registryClientFor(url)));
}
