// What the decider lets into a task's state. Producers may write to task.requests and
// task.results without the API, so every bound the API applies is applied here again:
// a task's state, its events and its reply must always fit in one Kafka record, and a
// reply may only go to a topic a deployment set aside for replies. The numbers come
// from the configuration (core/config.ts), which also sizes the topics to hold them.
import { DEFAULT_MAX_OUTPUT_BYTES, DEFAULT_MAX_PAYLOAD_BYTES, defaultReplyTopicPrefix, type StacklConfig } from '../../core/config.js';
import { DEFAULT_WEBHOOK_HOSTS, webhookHostOf } from '../../core/webhook-config.js';

export interface LifecycleLimits {
  /** A reply topic must start with this (STACKL_REPLY_TOPIC_PREFIX, default `<topic prefix>reply.`). */
  replyTopicPrefix: string;
  /** Hosts a webhook origin may name (STACKL_WEBHOOK_ALLOWED_HOSTS). */
  webhookHosts: readonly string[];
  /** Largest payload, as compact JSON text in UTF-8 bytes (STACKL_MAX_PAYLOAD_BYTES). */
  maxPayloadBytes: number;
  /** Largest output a worker may report (STACKL_MAX_OUTPUT_BYTES). */
  maxOutputBytes: number;
}


export function defaultLifecycleLimits(topicPrefix = 'stackl.'): LifecycleLimits {
  return { replyTopicPrefix: defaultReplyTopicPrefix(topicPrefix), webhookHosts: DEFAULT_WEBHOOK_HOSTS, maxPayloadBytes: DEFAULT_MAX_PAYLOAD_BYTES, maxOutputBytes: DEFAULT_MAX_OUTPUT_BYTES };
}

/** The limits a deployment configured. */
export function lifecycleLimitsOf(config: Pick<StacklConfig, 'replyTopicPrefix' | 'webhookHosts' | 'maxPayloadBytes' | 'maxOutputBytes'>): LifecycleLimits {
  return { replyTopicPrefix: config.replyTopicPrefix, webhookHosts: config.webhookHosts, maxPayloadBytes: config.maxPayloadBytes, maxOutputBytes: config.maxOutputBytes };
}

/** Bounds of the free-text fields producers and workers fill in. */
export const TEXT_LIMITS = {
  /** Kind and action names. */
  name: 200,
  idempotencyKey: 500,
  /** A reply topic name (Kafka's own limit) or a webhook URL. */
  originTarget: 2048,
  workerId: 200,
  /** Error messages, progress messages, cancel reasons: kept, but cut at this length. */
  message: 2000,
} as const;

/** `text` cut to `max` characters, saying so, so a state never grows with hostile input. */
export function bounded(text: string, max: number = TEXT_LIMITS.message): string {
  return text.length <= max ? text : `${text.slice(0, max)}… (${text.length - max} more characters)`;
}

/** Why a reply cannot go to `topic` under these limits, or null. */
export function replyTopicProblem(topic: string, limits: Pick<LifecycleLimits, 'replyTopicPrefix'>): string | null {
  if (!/^[A-Za-z0-9._-]{1,249}$/.test(topic)) return `origin target "${bounded(topic, 100)}" is not a Kafka topic name`;
  if (!topic.startsWith(limits.replyTopicPrefix) || topic.length === limits.replyTopicPrefix.length) {
    return `origin topic "${topic}" is not a reply topic: reply topics must start with "${limits.replyTopicPrefix}"`;
  }
  return null;
}

/** Why the notifier may not call `target` under these limits, or null. */
export function webhookProblem(target: string, limits: Pick<LifecycleLimits, 'webhookHosts'>): string | null {
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return `origin target "${bounded(target, 200)}" is not an http or https URL`;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `origin target "${bounded(target, 200)}" is not an http or https URL`;
  // Credentials in a URL end up in logs and dead letters; a receiver authenticates by signature.
  if (url.username !== '' || url.password !== '') return 'a webhook URL must not carry a user name or password';
  const host = webhookHostOf(url);
  if (!limits.webhookHosts.includes(host)) {
    return `webhook host "${bounded(host, 200)}" is not allowed: STACKL_WEBHOOK_ALLOWED_HOSTS names the hosts STACKL may call (${limits.webhookHosts.join(', ')})`;
  }
  return null;
}
