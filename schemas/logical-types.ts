// Logical types the codec registers with avsc. Both keep the plain JS value (string, number);
// registering them makes avsc keep the `logicalType` attribute in the schema we give a schema
// registry (avsc drops attributes of logical types it has no implementation for), and lets the
// codec refuse ids that are not UUIDs on both encode and decode.
import avro from 'avsc';
import type { Type } from 'avsc';

// The shape only: the version is not checked, so tests and tools may use v4 ids where the
// design asks for v7 task ids.
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: unknown): value is string {
  return typeof value === 'string' && UUID.test(value);
}

class UuidType extends avro.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    // A non-string means avsc ran past the end of the buffer; it reports that as truncation.
    if (typeof value === 'string' && !UUID.test(value)) {
      throw new Error(`not a UUID: ${JSON.stringify(value.slice(0, 40))}`);
    }
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return isUuid(value) ? value : undefined;
  }

  protected override _resolve(type: Type): unknown {
    return avro.Type.isType(type, 'string', 'logical:uuid') ? (value: unknown) => this._fromValue(value) : undefined;
  }
}

class TimestampMillisType extends avro.types.LogicalType {
  protected override _fromValue(value: unknown): unknown {
    return value;
  }

  protected override _toValue(value: unknown): unknown {
    return value;
  }

  protected override _resolve(type: Type): unknown {
    return avro.Type.isType(type, 'long', 'int', 'logical:timestamp-millis') ? (value: unknown) => value : undefined;
  }
}

export const logicalTypes = { uuid: UuidType, 'timestamp-millis': TimestampMillisType };

/** The avsc options every STACKL schema is parsed with, bundled or fetched from a registry. */
export function parseOptions(registry: Record<string, Type> = {}) {
  // 'auto' keeps ["null", T] unwrapped (plain `T | null`) and wraps the envelope body union,
  // whose branches are all records; the codec unwraps it.
  return { registry, logicalTypes, wrapUnions: 'auto' as const };
}
