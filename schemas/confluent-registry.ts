// Adapter from @kafkajs/confluent-schema-registry to the codec's SchemaResolver. Typed
// structurally so the codec does not import the client: only deployments with a registry need it.
import type { SchemaResolver, SchemaSource } from './writer-schemas.js';

/** The one method of the client's SchemaRegistry the codec uses. */
export interface SchemaRegistryLike {
  getSchema(registryId: number): Promise<unknown>;
}

function isNotFound(error: unknown): boolean {
  // The client rejects with its ResponseError, which carries the HTTP status.
  return typeof error === 'object' && error !== null && (error as { status?: unknown }).status === 404;
}

/** A resolver for `createCodec({ resolveSchema })` backed by a Confluent schema registry. */
export function confluentSchemaResolver(registry: SchemaRegistryLike): SchemaResolver {
  return async (schemaId) => {
    try {
      return (await registry.getSchema(schemaId)) as SchemaSource;
    } catch (error) {
      if (isNotFound(error)) return undefined;
      throw error;
    }
  };
}
