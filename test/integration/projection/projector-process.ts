// The projector as a process of its own, for tests that kill -9 it: started with
// `node --import tsx`, configured by the environment like the `stackl projector` role.
// It says "projector ready" on stderr, then prints its stats as a JSON line on stdout
// every 100 ms, so a test can see how far it got before it died. With
// PROJECTOR_TEST_HALT_BEFORE_DEAD_LETTER_SEND=1 it stops for good between committing a
// batch's dead letters and sending them, says so on stderr, and waits to be killed.
import { loadConfig } from '../../../core/config.js';
import { startProjector, type DeadLetterPublishing } from '../../../processors/projection/index.js';

const halt: DeadLetterPublishing = {
  beforeSend: async (rows) => {
    process.stderr.write(`halting before sending dead letters ${JSON.stringify(rows)}\n`);
    await new Promise(() => {});
  },
};

const projector = await startProjector(loadConfig(), {
  clientId: 'projector-process',
  ...(process.env.PROJECTOR_TEST_HALT_BEFORE_DEAD_LETTER_SEND === '1' ? { deadLetterPublishing: halt } : {}),
  onFatal: (error) => {
    process.stderr.write(`projector fatal: ${String(error)}\n`);
    process.exit(1);
  },
});
process.stderr.write('projector ready\n');
const report = setInterval(() => process.stdout.write(`${JSON.stringify(projector.stats())}\n`), 100);
process.once('SIGTERM', () => {
  clearInterval(report);
  void projector.stop().then(() => process.exit(0));
});
