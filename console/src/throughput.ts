// Throughput and latency over the last minutes: tasks submitted, completed and failed
// per second (from the projection, in 10 s buckets), and the p50/p99 time from submit to
// completion. Read again every few seconds.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { getJson } from './api.js';

interface Throughput {
  bucketSeconds: number;
  buckets: Array<{ at: string; submitted: number; completed: number; failed: number }>;
  latencyMs: { p50: number | null; p99: number | null; completed: number };
}

const MINUTES = 10;
const SERIES = [
  { name: 'submitted', colour: '#1d4f9c' },
  { name: 'completed', colour: '#1c6b2a' },
  { name: 'failed', colour: '#c0392b' },
] as const;

function Chart({ data }: { data: Throughput }) {
  const width = 720;
  const height = 160;
  const end = Math.floor(Date.now() / 1000 / data.bucketSeconds) * data.bucketSeconds;
  const start = end - MINUTES * 60;
  const slots = (end - start) / data.bucketSeconds + 1;
  const byTime = new Map(data.buckets.map((b) => [Date.parse(b.at) / 1000, b]));
  const rate = (t: number, name: (typeof SERIES)[number]['name']) => (byTime.get(t)?.[name] ?? 0) / data.bucketSeconds;
  const times = Array.from({ length: slots }, (_, i) => start + i * data.bucketSeconds);
  const top = Math.max(1, ...times.flatMap((t) => SERIES.map((s) => rate(t, s.name))));
  const x = (i: number) => (i / (slots - 1)) * width;
  const y = (v: number) => height - (v / top) * (height - 10);
  return html`<svg class="chart" viewBox=${`0 0 ${width} ${height}`} width=${width} height=${height} role="img" aria-label="tasks per second">
    ${SERIES.map((s) => html`<polyline fill="none" stroke=${s.colour} stroke-width="2" points=${times.map((t, i) => `${x(i)},${y(rate(t, s.name))}`).join(' ')} />`)}
    <text x="4" y="12" class="axis">${top.toFixed(1)}/s</text>
  </svg>`;
}

export function ThroughputPage() {
  const [data, setData] = useState<Throughput | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    const load = () =>
      getJson<Throughput>(`/stats/throughput?minutes=${MINUTES}&bucketSeconds=10`).then(
        (d) => (setData(d), setError(null)),
        (e: Error) => setError(e.message),
      );
    void load();
    const timer = setInterval(() => void load(), 5000);
    return () => clearInterval(timer);
  }, []);
  const total = (name: (typeof SERIES)[number]['name']) => data?.buckets.reduce((n, b) => n + b[name], 0) ?? 0;
  const ms = (v: number | null | undefined) => (v === null || v === undefined ? '—' : `${Math.round(v)} ms`);
  return html`<section>
    <h1>Throughput, last ${MINUTES} minutes</h1>
    ${error !== null && html`<p class="error" role="alert">${error}</p>`}
    ${data !== null &&
    html`<dl class="facts totals">
        ${SERIES.map((s) => html`<dt class=${`series ${s.name}`}>${s.name}</dt><dd data-total=${s.name}>${total(s.name)}</dd>`)}
        <dt>latency p50</dt><dd data-latency="p50">${ms(data.latencyMs.p50)}</dd>
        <dt>latency p99</dt><dd data-latency="p99">${ms(data.latencyMs.p99)}</dd>
      </dl>
      <${Chart} data=${data} />`}
  </section>`;
}
