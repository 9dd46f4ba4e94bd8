import { describe, expect, it } from 'vitest';
import { HttpMetrics, labelText, renderCounter, renderGauge } from '../../../api/metrics.js';
import { checkReadiness } from '../../../api/readiness.js';

describe('Prometheus text', () => {
  it('counts requests and fills cumulative latency buckets per route and status', () => {
    const metrics = new HttpMetrics();
    metrics.observe('GET', '/tasks/:id', 200, 0.003);
    metrics.observe('GET', '/tasks/:id', 200, 0.2);
    metrics.observe('GET', '/tasks/:id', 404, 0.001);
    const text = metrics.render();
    expect(text).toContain('stackl_http_requests_total{method="GET",route="/tasks/:id",status="200"} 2');
    expect(text).toContain('stackl_http_request_duration_seconds_bucket{method="GET",route="/tasks/:id",status="200",le="0.005"} 1');
    expect(text).toContain('stackl_http_request_duration_seconds_bucket{method="GET",route="/tasks/:id",status="200",le="0.25"} 2');
    expect(text).toContain('stackl_http_request_duration_seconds_count{method="GET",route="/tasks/:id",status="404"} 1');
  });

  it('escapes label values and renders gauges', () => {
    expect(labelText({ a: 'x"y\\z\nw' })).toBe('{a="x\\"y\\\\z\\nw"}');
    expect(renderGauge('g', 'help', [[{ p: '0' }, 3]])).toBe('# HELP g help\n# TYPE g gauge\ng{p="0"} 3');
    expect(renderCounter('c_total', 'help', [[{ reason: 'kafka' }, 2]])).toBe('# HELP c_total help\n# TYPE c_total counter\nc_total{reason="kafka"} 2');
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
