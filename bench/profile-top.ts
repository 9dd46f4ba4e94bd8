// `node dist/bench/profile-top.js <file.cpuprofile> [n] [fromS] [toS]`: the n (default 10) functions
// with the most self time in a V8 CPU profile (`node --cpu-prof`), as JSON, plus self
// time by area (npm package, or STACKL folder such as processors/runtime). Self time is
// what a function spends in its own code, so it says where the cost is rather than who
// called it; samples are grouped by function, file and line. Several roles share one
// process in most benchmarks, so the areas tell which role pays. fromS/toS keep only the
// samples taken that many seconds after the profile started (e.g. a timer window).
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

/** `kafkajs`, `pg`, `processors/runtime`, `node:internal`, `(native)`, … for a frame's url. */
function areaOf(url: string): string {
  if (url === '') return '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg) return pkg[1] as string;
  const ours = /\/dist\/([^/]+)(?:\/([^/]+)\/)?/.exec(url);
  if (ours) return ours[2] !== undefined && !ours[2].endsWith('.js') ? `${ours[1]}/${ours[2]}` : (ours[1] as string);
  return url.startsWith('node:') ? 'node:internal' : url;
}

export interface ProfileSummary {
  totalMs: number;
  /** Not idle; every percent is of this. */
  busyMs: number;
  top: { function: string; where: string; selfMs: number; percent: number }[];
  areas: { area: string; selfMs: number; percent: number }[];
}

export function topSelfTime(profile: CpuProfile, n: number, fromS = 0, toS = Number.POSITIVE_INFINITY): ProfileSummary {
  const frameOf = new Map(profile.nodes.map((node) => [node.id, node.callFrame]));
  const selfUs = new Map<string, number>();
  const areaUs = new Map<string, number>();
  let totalUs = 0;
  let atUs = 0;
  profile.samples.forEach((id, i) => {
    const frame = frameOf.get(id);
    atUs += profile.timeDeltas[i] ?? 0;
    if (atUs < fromS * 1e6 || atUs > toS * 1e6) return;
    // A sample's time is the delta to the next sample.
    const us = profile.timeDeltas[i + 1] ?? 0;
    totalUs += us;
    if (frame === undefined) return;
    const file = frame.url.replace(/^.*\/node_modules\//, '').replace(/^.*\/dist\//, '');
    const key = `${frame.functionName || '(anonymous)'}\t${file === '' ? '(native)' : `${file}:${frame.lineNumber + 1}`}`;
    if (frame.functionName !== '(idle)') selfUs.set(key, (selfUs.get(key) ?? 0) + us);
    const area = frame.functionName === '(idle)' || frame.functionName === '(program)' || frame.functionName === '(garbage collector)' ? frame.functionName : areaOf(frame.url);
    areaUs.set(area, (areaUs.get(area) ?? 0) + us);
  });
  // Percent of the time the thread was busy: idle time says nothing about cost.
  const idleUs = areaUs.get('(idle)') ?? 0;
  const percent = (us: number): number => Math.round((us / Math.max(1, totalUs - idleUs)) * 1000) / 10;
  const sorted = (m: Map<string, number>): [string, number][] => [...m].sort(([, a], [, b]) => b - a);
  return {
    totalMs: Math.round(totalUs / 1000),
    busyMs: Math.round((totalUs - idleUs) / 1000),
    top: sorted(selfUs)
      .slice(0, n)
      .map(([key, us]) => {
        const [name, where] = key.split('\t');
        return { function: name as string, where: where as string, selfMs: Math.round(us / 1000), percent: percent(us) };
      }),
    areas: sorted(areaUs)
      .filter(([area]) => area !== '(idle)')
      .slice(0, 15)
      .map(([area, us]) => ({ area, selfMs: Math.round(us / 1000), percent: percent(us) })),
  };
}

const [file, count, fromS, toS] = process.argv.slice(2);
if (file !== undefined && process.argv[1]?.endsWith('profile-top.js')) {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const summary = topSelfTime(profile, Number(count ?? 10), Number(fromS ?? 0), toS === undefined ? Number.POSITIVE_INFINITY : Number(toS));
  process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
}
