// kafkajs 2.2.4 (its last release) cannot read past a record batch that holds no
// records. Kafka's log cleaner leaves such batches in compacted topics on purpose: when
// every record of a producer's last batch was superseded, the batch header stays (count
// 0) so the broker keeps that producer's sequence and epoch. kafkajs turns a fetched
// batch into its records only, so a fetch that returns just that header (it ends a
// segment, or the fetch size allows one batch) yields nothing, the consumer never
// resolves an offset and fetches the same offset forever (tulios/kafkajs#1072). Our
// changelog restore met it in a long chaos run: one lifecycle partition never served
// again.
//
// The Java consumer moves its position to the batch's last offset + 1 whatever the
// batch holds. We do the same inside kafkajs: an empty batch decodes as one control
// record at its last offset. Control records never reach eachBatch/eachMessage, and a
// fetch whose records were all filtered resolves the last offset and moves on, which
// is kafkajs' own path for batches of aborted or control records.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

const KAFKAJS_VERSION = '2.2.4';
const RECORD_BATCH_DECODER = 'kafkajs/src/protocol/recordBatch/v0/decoder.js';
const FETCH_MESSAGES_DECODER = 'kafkajs/src/protocol/requests/fetch/v4/decodeMessages.js';
/** The fetch responses that hold the decoder they loaded (fetch/index.js requires them per request). */
const FETCH_RESPONSES = ['v4', 'v5', 'v7', 'v8', 'v11'].map((v) => `kafkajs/src/protocol/requests/fetch/${v}/response.js`);

interface DecodedBatch {
  firstOffset: string;
  lastOffsetDelta: number;
  maxTimestamp: string;
  records: unknown[];
  [context: string]: unknown;
}

type BatchDecoder = (decoder: unknown) => Promise<DecodedBatch>;

let installed = false;
let emptyBatchesSeen = 0;

/** How many empty record batches this process's consumers have read past (tests and logs). */
export function emptyBatchesPassed(): number {
  return emptyBatchesSeen;
}

/** Makes every kafkajs consumer of this process step over empty record batches. Idempotent. */
export function passEmptyRecordBatches(): void {
  if (installed) return;
  const version = (require('kafkajs/package.json') as { version: string }).version;
  if (version !== KAFKAJS_VERSION) {
    // The fix reaches into kafkajs internals; another release may lay them out differently.
    throw new Error(`STACKL patches kafkajs ${KAFKAJS_VERSION} to read past empty record batches, found ${version}: check the fix in topics/kafkajs-empty-batches.ts still applies`);
  }
  const decoderPath = require.resolve(RECORD_BATCH_DECODER);
  const original = require(decoderPath) as BatchDecoder;
  const stepOver: BatchDecoder = async (decoder) => {
    const batch = await original(decoder);
    if (batch.records.length > 0) return batch;
    emptyBatchesSeen += 1;
    return { ...batch, records: [emptyBatchMarker(batch)] };
  };
  const cached = require.cache[decoderPath];
  if (cached === undefined) throw new Error(`kafkajs record batch decoder was not loaded from ${RECORD_BATCH_DECODER}`);
  cached.exports = stepOver;
  // Modules that already captured the original decoder load again and capture ours.
  for (const path of [FETCH_MESSAGES_DECODER, ...FETCH_RESPONSES]) delete require.cache[require.resolve(path)];
  installed = true;
}

/** A control record at the batch's last offset, which kafkajs filters out and then resolves. */
function emptyBatchMarker(batch: DecodedBatch): Record<string, unknown> {
  const { records: _none, ...context } = batch;
  return {
    magicByte: 2,
    attributes: 0,
    timestamp: batch.maxTimestamp,
    offset: (BigInt(batch.firstOffset) + BigInt(batch.lastOffsetDelta)).toString(),
    key: null,
    value: null,
    headers: {},
    isControlRecord: true,
    batchContext: context,
  };
}
