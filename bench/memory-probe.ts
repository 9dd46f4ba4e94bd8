// Preloaded (`node --expose-gc --import …/memory-probe.js`) into a role that live-rss
// measures. The role runs as it always does; only when the benchmark sends SIGUSR2 does
// this collect garbage and write process.memoryUsage() to STACKL_BENCH_MEMORY_FILE, so
// the benchmark can tell the heap that live tasks hold from garbage not yet collected.
import { writeFileSync } from 'node:fs';

const file = process.env.STACKL_BENCH_MEMORY_FILE;
const collect = (globalThis as { gc?: () => void }).gc;

if (file !== undefined && file !== '') {
  process.on('SIGUSR2', () => {
    collect?.();
    const usage = process.memoryUsage();
    writeFileSync(file, JSON.stringify({ collected: collect !== undefined, at: Date.now(), ...usage }));
  });
}
