// W3C trace context (https://www.w3.org/TR/trace-context/): a `traceparent` accepted on
// POST /tasks becomes the task's correlation id, which every record of the task carries
// (requests, events, work orders, results) and every role logs with its lines about the
// task, so one id follows a task across roles. Only the header's format is checked here;
// no exporter is needed to read the ids in logs.

/** The `traceparent` header name, also the Kafka header carrying it beside the records. */
export const TRACEPARENT = 'traceparent';

const FORMAT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** The header when it is a valid version-00 traceparent (lower-case hex, ids not all zeros); else undefined (the spec says: ignore it). */
export function validTraceparent(header: unknown): string | undefined {
  if (typeof header !== 'string') return undefined;
  const match = FORMAT.exec(header.trim());
  if (match === null) return undefined;
  const [, version, traceId, parentId] = match;
  if (version !== '00' || /^0+$/.test(traceId ?? '') || /^0+$/.test(parentId ?? '')) return undefined;
  return header.trim();
}

/** The trace id of a correlation id that is a traceparent, for log lines; undefined otherwise. */
export function traceIdOf(correlationId: string | null | undefined): string | undefined {
  return validTraceparent(correlationId)?.slice(3, 35);
}
