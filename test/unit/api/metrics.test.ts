import { describe, expect, it } from 'vitest';
import { ApiMetrics, type ScrapeSources } from '../../../api/metrics.js';
import { checkReadiness } from '../../../api/readiness.js';
import { startProcessMetrics } from '../../../core/metrics.js';

const sources = (overrides: Partial<ScrapeSources> = {}): ScrapeSources => ({
  lag: async () => new Map([[0, 3]]),
  countByStatus: async () => new Map([['Completed', 7]]),
  pending: () => 2,
  shed: () => ({ orders: 1 }),
  backlog: () => ({ requests: 4, orders: 5 }),
  ...overrides,
});

describe('Prometheus text', () => {
  it('counts requests and fills cumulative latency buckets per route and status', async () => {
    const metrics = new ApiMetrics();
    metrics.observe('GET', '/tasks/:id', 200, 0.003);
    metrics.observe('GET', '/tasks/:id', 200, 0.2);
    metrics.observe('GET', '/tasks/:id', 404, 0.001);
    const text = await metrics.render();
    expect(text).toContain('stackl_http_requests_total{method="GET",route="/tasks/:id",status="200"} 2');
    expect(text).toContain('stackl_http_request_duration_seconds_bucket{le="0.005",method="GET",route="/tasks/:id",status="200"} 1');
    expect(text).toContain('stackl_http_request_duration_seconds_bucket{le="0.25",method="GET",route="/tasks/:id",status="200"} 2');
    expect(text).toContain('stackl_http_request_duration_seconds_count{method="GET",route="/tasks/:id",status="404"} 1');
  });

  it('reads its gauges at scrape time, and leaves out a family whose source fails, saying so', async () => {
    const metrics = new ApiMetrics();
    metrics.readFrom(sources());
    const text = await metrics.render();
    expect(text).toContain('stackl_projection_lag_events{partition="0"} 3');
    expect(text).toContain('stackl_tasks{status="Completed"} 7');
    expect(text).toContain('stackl_api_pending_commands 2');
    expect(text).toContain('stackl_api_shed_total{reason="orders"} 1');
    expect(text).toContain('stackl_api_backlog{stage="orders"} 5');
    expect(text).toContain('stackl_api_scrape_source_up{source="projection_lag"} 1');
    metrics.readFrom(sources({ lag: () => Promise.reject(new Error('Kafka away')) }));
    const failing = await metrics.render();
    expect(failing).not.toMatch(/stackl_projection_lag_events\{/);
    expect(failing).toContain('stackl_api_scrape_source_up{source="projection_lag"} 0');
    expect(failing).toContain('stackl_tasks{status="Completed"} 7');
  });

  it('serves the process registry beside its own: Node\'s metrics labelled with the role', async () => {
    startProcessMetrics('test');
    const text = await new ApiMetrics().render();
    expect(text).toMatch(/process_cpu_user_seconds_total\{role="test"\} \d/);
  });
});

describe('readiness', () => {
  const ok = async () => {};
  const admits = () => ({ ready: true, reasons: [], pending: 0 });
  it('is ready when every check passes and the worst lag is within the limit', async () => {
    const lag = async () => new Map([[0, 2], [1, 5]]);
    expect(await checkReadiness({ kafka: ok, postgres: ok, lag }, 5, admits)).toMatchObject({
      ready: true,
      functions: { submit: { ready: true }, read: { ready: true } },
      checks: { projection: { ok: true, lag: { '0': 2, '1': 5 } } },
    });
    expect((await checkReadiness({ kafka: ok, postgres: ok, lag }, 4, admits)).checks.projection).toMatchObject({ ok: false, error: expect.stringContaining('5 events behind') });
  });

  it('splits per function: a lagging projection fails reads only, a refusing admission fails submissions only', async () => {
    const lag = async () => new Map([[0, 50]]);
    const lagging = await checkReadiness({ kafka: ok, postgres: ok, lag }, 10, admits);
    expect(lagging).toMatchObject({ ready: true, functions: { submit: { ready: true, failing: [] }, read: { ready: false, failing: [expect.stringContaining('projection: projection is 50 events behind')] } } });
    const refusing = () => ({ ready: false, reasons: ['1200 orders wait for a worker (limit 1000)'], pending: 3 });
    const shedding = await checkReadiness({ kafka: ok, postgres: ok, lag: async () => new Map() }, 10, refusing);
    expect(shedding).toMatchObject({
      ready: true,
      functions: { submit: { ready: false, failing: ['admission: 1200 orders wait for a worker (limit 1000)'] }, read: { ready: true } },
      checks: { admission: { ok: false, pending: 3 } },
    });
  });

  it('fails a check that throws or hangs, naming why', async () => {
    const hang = () => new Promise<void>(() => {});
    const fail = async () => {
      throw new Error('connection refused');
    };
    const result = await checkReadiness({ kafka: hang, postgres: fail, lag: async () => new Map() }, 0, admits, 50);
    expect(result).toMatchObject({ ready: false, checks: { kafka: { ok: false, error: 'no answer within 50 ms' }, postgres: { ok: false, error: 'connection refused' }, projection: { ok: true } } });
    expect(result.functions).toMatchObject({ submit: { ready: false }, read: { ready: false } });
  });
});
