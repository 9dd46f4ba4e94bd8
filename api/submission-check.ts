// Checks origin, kind, action and payload against the deployment's limits and the kind
// registry before anything is produced, so a request the broker would reject never
// reaches Kafka and the client learns why at once (422, 413 for a payload too large,
// 400 for one nested too deep). The decider checks again: producers may bypass the API.
import { StacklError } from '../core/errors.js';
import type { SubmitRequest } from '../processors/broker/task-broker.js';
import { checkJsonValue, MAX_JSON_DEPTH, payloadSchemaFor, replyTopicProblem, webhookProblem, type KindRegistry, type LifecycleLimits } from '../processors/lifecycle/index.js';
import { nestingDepth } from './json-depth.js';
import type { SubmitBody } from './schemas.js';
import type { BrokerName, ChannelName } from '../core/config.js';

export interface SubmissionRules {
  kinds: KindRegistry;
  limits: LifecycleLimits;
  /** The custom broker replies to topics only with Kafka as its channel. */
  broker?: BrokerName;
  channel?: ChannelName;
}

export function checkSubmission(rules: SubmissionRules, body: Pick<SubmitBody, 'kind' | 'action' | 'payload' | 'origin'>): void {
  const { kinds, limits } = rules;
  const { kind, action, payload, origin } = body;
  // First, before any schema walks the payload: a kind's zod schema recurses through
  // nested JSON and would overflow the stack on thousands of levels.
  const depth = nestingDepth(payload, MAX_JSON_DEPTH);
  if (depth > MAX_JSON_DEPTH) {
    throw new StacklError('PAYLOAD_TOO_DEEP', `payload is nested more than ${MAX_JSON_DEPTH} levels deep`, {
      httpStatus: 400,
      details: { maxDepth: MAX_JSON_DEPTH, issues: [{ path: 'payload', message: `nested more than ${MAX_JSON_DEPTH} levels deep` }] },
    });
  }
  if (rules.broker === 'custom' && rules.channel !== 'kafka' && origin?.type === 'topic') {
    const problem = 'an origin of type topic needs Kafka, which the custom broker (STACKL_BROKER=custom) does not use: name a webhook, or follow the task with GET /tasks/{id} or stackl watch';
    throw new StacklError('INVALID_ORIGIN', problem, { httpStatus: 422, details: { issues: [{ path: 'body.origin.type', message: problem }], broker: 'custom' } });
  }
  if (origin?.type === 'topic') {
    const problem = replyTopicProblem(origin.target, limits);
    if (problem !== null) {
      throw new StacklError('INVALID_ORIGIN', problem, { httpStatus: 422, details: { issues: [{ path: 'body.origin.target', message: problem }], replyTopicPrefix: limits.replyTopicPrefix } });
    }
  }
  if (origin?.type === 'webhook') {
    const problem = webhookProblem(origin.target, limits);
    if (problem !== null) {
      throw new StacklError('INVALID_ORIGIN', problem, { httpStatus: 422, details: { issues: [{ path: 'body.origin.target', message: problem }], allowedHosts: limits.webhookHosts } });
    }
  }
  const definition = kinds.get(kind);
  const knownKinds = [...kinds.keys()];
  if (definition === undefined) {
    throw new StacklError('UNKNOWN_KIND', `unknown kind "${kind}"; known kinds: ${knownKinds.join(', ') || '(none)'}`, {
      httpStatus: 422,
      details: { knownKinds },
    });
  }
  const schema = payloadSchemaFor(definition, action);
  if (schema === undefined) {
    throw new StacklError('UNKNOWN_ACTION', `kind "${kind}" has no action "${action}"; its actions: ${definition.actions.join(', ')}`, {
      httpStatus: 422,
      details: { knownActions: [...definition.actions] },
    });
  }
  const checked = checkJsonValue(payload, limits.maxPayloadBytes);
  if (!checked.ok) {
    const tooLarge = checked.problem.code === 'TOO_LARGE';
    throw new StacklError(tooLarge ? 'PAYLOAD_TOO_LARGE' : 'INVALID_PAYLOAD', `payload of ${kind}/${action} ${checked.problem.message}`, {
      httpStatus: tooLarge ? 413 : 422,
      details: tooLarge ? { maxPayloadBytes: limits.maxPayloadBytes } : { issues: [{ path: 'payload', message: checked.problem.message }] },
    });
  }
  const result = schema.safeParse(payload);
  if (!result.success) {
    const issues = result.error.issues.flatMap((issue) => {
      const path = ['payload', ...issue.path.map(String)].join('.');
      // An unknown key is reported at the key's own path, as for the request body.
      if (issue.code === 'unrecognized_keys') return issue.keys.map((key) => ({ path: `${path}.${key}`, message: 'unknown field' }));
      return [{ path, message: issue.message }];
    });
    throw new StacklError('INVALID_PAYLOAD', `payload of ${kind}/${action} is not valid: ${issues.map((i) => `${i.path}: ${i.message}`).join('; ')}`, {
      httpStatus: 422,
      details: { issues },
    });
  }
}

/** A validated body as the broker takes it (an origin of type none needs no target). */
export function toSubmitRequest(body: SubmitBody): SubmitRequest {
  const { origin, ...rest } = body;
  return { ...rest, ...(origin === undefined ? {} : { origin: { type: origin.type, target: origin.target ?? null } }) };
}
