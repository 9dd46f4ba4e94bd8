import { z } from 'zod';
import { defineKind } from './define-kind.js';

/**
 * `stack`: create, update or delete a stack instance. Each service names the
 * capabilities it needs; the worker places it on infrastructure targets that offer them
 * (documents `infrastructure/target/<name>`), records the instance in the datastore
 * (`stack/instance/<name>`) and has agents apply it on every chosen target. Services are
 * given, or instantiated from a template (stack-template.ts).
 */
const nameSchema = z.string().regex(/^[a-z0-9][a-z0-9_-]{0,62}$/, 'a name is lower-case letters, digits, _ and -, at most 63 characters');

export const capabilitySchema = z.string().regex(/^[a-z0-9][a-z0-9._:-]{0,62}$/, 'a capability is lower-case letters, digits, . _ : -');

export const stackServiceSchema = z.strictObject({
  name: nameSchema,
  /** Every capability a target must offer to host this service. */
  requires: z.array(capabilitySchema).max(20).default([]),
  /** On how many distinct targets the service runs. */
  replicas: z.number().int().min(1).max(20).default(1),
  /** What the agent applies; opaque to STACKL. */
  config: z.record(z.string(), z.json()).default({}),
});

export const stackWritePayloadSchema = z.strictObject({
  name: nameSchema,
  services: z
    .array(stackServiceSchema)
    .min(1)
    .max(50)
    .refine((services) => new Set(services.map((s) => s.name)).size === services.length, 'service names must be unique within a stack'),
});

/** A stack from a template (`stack/template/<template>`), its parameters checked against the template's. */
export const stackFromTemplatePayloadSchema = z.strictObject({
  name: nameSchema,
  template: nameSchema,
  parameters: z.record(z.string(), z.union([z.string().max(1_000), z.number(), z.boolean()])).default({}),
});

/** A stack to create or update: its services, or a template to instantiate. */
export const stackSourcePayloadSchema = z.union([stackWritePayloadSchema, stackFromTemplatePayloadSchema]);

export const stackDeletePayloadSchema = z.strictObject({ name: nameSchema });

/** An infrastructure target as the datastore describes it. */
export const targetBodySchema = z.object({
  capabilities: z.array(capabilitySchema).max(100),
  /** How many services it can host; unlimited when absent. */
  capacity: z.number().int().min(0).optional(),
});

export type StackService = z.output<typeof stackServiceSchema>;
export type StackWritePayload = z.output<typeof stackWritePayloadSchema>;
export type StackSourcePayload = z.output<typeof stackSourcePayloadSchema>;
export type TargetBody = z.output<typeof targetBodySchema>;

export const stackKind = defineKind({
  name: 'stack',
  description: 'deploy, update or remove a stack of services through the agents',
  actions: ['create', 'update', 'delete'],
  payload: { create: stackSourcePayloadSchema, update: stackSourcePayloadSchema, delete: stackDeletePayloadSchema },
});
