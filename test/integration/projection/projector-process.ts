// The projector as a process of its own, for tests that kill -9 it: started with
// `node --import tsx`, configured by the environment like the `stackl projector` role.
// It says "projector ready" on stderr, then prints its stats as a JSON line on stdout
// every 100 ms, so a test can see how far it got before it died.
import { loadConfig } from '../../../core/config.js';
import { startProjector } from '../../../processors/projection/index.js';

const projector = await startProjector(loadConfig(), {
  clientId: 'projector-process',
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
