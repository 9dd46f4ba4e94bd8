// Prometheus text exposition, by hand: three metric families do not justify a client
// library. HTTP counters and latency histograms accumulate here; gauges (lag, tasks by
// status) are computed by the /metrics route at scrape time.

/** Upper bounds of the latency buckets, in seconds. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

interface Series {
  labels: Record<string, string>;
  count: number;
  sum: number;
  buckets: number[];
}

export class HttpMetrics {
  private readonly series = new Map<string, Series>();

  observe(method: string, route: string, status: number, seconds: number): void {
    const labels = { method, route, status: String(status) };
    const key = JSON.stringify(labels);
    let series = this.series.get(key);
    if (series === undefined) {
      series = { labels, count: 0, sum: 0, buckets: BUCKETS.map(() => 0) };
      this.series.set(key, series);
    }
    series.count += 1;
    series.sum += seconds;
    BUCKETS.forEach((bound, i) => {
      if (seconds <= bound) series.buckets[i] = (series.buckets[i] ?? 0) + 1;
    });
  }

  render(): string {
    const lines = [
      '# HELP stackl_http_requests_total HTTP requests answered, by method, route and status.',
      '# TYPE stackl_http_requests_total counter',
    ];
    for (const s of this.series.values()) lines.push(`stackl_http_requests_total${labelText(s.labels)} ${s.count}`);
    lines.push('# HELP stackl_http_request_duration_seconds Time to answer HTTP requests.', '# TYPE stackl_http_request_duration_seconds histogram');
    for (const s of this.series.values()) {
      BUCKETS.forEach((bound, i) => lines.push(`stackl_http_request_duration_seconds_bucket${labelText({ ...s.labels, le: String(bound) })} ${s.buckets[i] ?? 0}`));
      lines.push(`stackl_http_request_duration_seconds_bucket${labelText({ ...s.labels, le: '+Inf' })} ${s.count}`);
      lines.push(`stackl_http_request_duration_seconds_sum${labelText(s.labels)} ${s.sum}`);
      lines.push(`stackl_http_request_duration_seconds_count${labelText(s.labels)} ${s.count}`);
    }
    return lines.join('\n');
  }
}

/** A gauge family with one sample per label set. */
export function renderGauge(name: string, help: string, samples: Array<[Record<string, string>, number]>): string {
  return renderFamily('gauge', name, help, samples);
}

/** A counter family kept by the caller (a total since start). */
export function renderCounter(name: string, help: string, samples: Array<[Record<string, string>, number]>): string {
  return renderFamily('counter', name, help, samples);
}

function renderFamily(type: 'gauge' | 'counter', name: string, help: string, samples: Array<[Record<string, string>, number]>): string {
  return [`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`, ...samples.map(([labels, value]) => `${name}${labelText(labels)} ${value}`)].join('\n');
}

export function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"')}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}
