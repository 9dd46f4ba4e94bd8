// @ts-check
// The worker: registers dns-record with STACKL, then runs its tasks until SIGTERM or Ctrl-C.
// It reads the deployment's settings from the environment like every STACKL role
// (KAFKA_BROKERS, STACKL_TOPIC_PREFIX, ...); the defaults reach the system `npm start` runs.
import { createWorker, implement } from 'stackl';
import { rollback, run } from './handlers.js';
import { dnsRecord } from './kind.js';
import { zoneDir } from './zone-file.js';

const worker = await createWorker({
  // 'before-change': the start of an attempt is reported at ctx.beforeChange() (or after a
  // second), so a task refused before it writes anything costs one record fewer.
  kinds: [implement(dnsRecord, { run, rollback, startReport: 'before-change' })],
});
console.log(`dns-record worker ready (worker ${worker.workerId}); zone files in ${zoneDir}`);

// Stopping lets the tasks in hand finish (up to STACKL_SHUTDOWN_GRACE_MS), then leaves
// Kafka's groups at once, so another worker takes over without waiting. A second signal
// ends the process now: the broker times out what it was running and rolls it back.
let stopping = false;
for (const signal of /** @type {const} */ (['SIGTERM', 'SIGINT'])) {
  process.on(signal, () => {
    if (stopping) process.exit(1);
    stopping = true;
    console.log(`${signal}: stopping`);
    worker.stop().then(
      () => {
        console.log('stopped');
        process.exit(0);
      },
      (error) => {
        console.error('could not stop cleanly', error);
        process.exit(1);
      },
    );
  });
}
