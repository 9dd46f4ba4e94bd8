// The Grafana dashboard and the Prometheus alert rules in deploy/ cannot be loaded here (no
// Prometheus, no Grafana), so they are checked for what would break them silently: every
// metric an expression names is one STACKL (or prom-client's process metrics) registers,
// every panel has a query, every rule has a severity and a summary, and Compose mounts them.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { metricsRegistry, startProcessMetrics } from '../../../core/metrics.js';
// Each role's module registers its families when imported: import them all, as `stackl all` does.
import '../../../processors/runtime/stream-metrics.js';
import '../../../workers/worker-metrics.js';
import '../../../processors/projection/projection-metrics.js';
import '../../../agents/agent-metrics.js';
import '../../../channels/relay-metrics.js';
import '../../../processors/broker/custom/custom-broker-metrics.js';
import { ApiMetrics } from '../../../api/metrics.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

function registeredNames(): Set<string> {
  startProcessMetrics('test');
  const api = new ApiMetrics();
  const names = new Set<string>();
  for (const metric of [...metricsRegistry.getMetricsAsArray(), ...api.registry.getMetricsAsArray()]) {
    const { name, type } = metric as unknown as { name: string; type: string };
    names.add(name);
    // A histogram's series are queried by their suffixes.
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

/** The metric names a PromQL expression reads (identifiers followed by a selector, a range or an operator). */
function metricsIn(expr: string): string[] {
  const words = [...expr.matchAll(/\b([a-z_][a-z0-9_]*)\b(?=\s*(\{|\[|\)|\s*[-+*/<>=!]|$))/g)].map((m) => m[1] as string);
  return words.filter((w) => /^(stackl_|process_|nodejs_)/.test(w));
}

const dashboard = JSON.parse(read('deploy/grafana/stackl-dashboard.json')) as { uid: string; panels: { title: string; targets: { expr: string }[]; datasource: { uid: string } }[] };
const alerts = parse(read('deploy/prometheus/alerts.yml')) as { groups: { rules: { alert: string; expr: string; labels: { severity: string }; annotations: { summary: string } }[] }[] };
const rules = alerts.groups.flatMap((g) => g.rules);

describe('observability files', () => {
  const names = registeredNames();

  it('the dashboard queries only metrics STACKL registers, every panel with a query on the provisioned data source', () => {
    expect(dashboard.panels.length).toBeGreaterThan(10);
    const datasource = parse(read('deploy/compose/grafana-datasource.yaml')) as { datasources: { uid: string }[] };
    for (const panel of dashboard.panels) {
      expect(panel.targets.length, panel.title).toBeGreaterThan(0);
      expect(panel.datasource.uid).toBe(datasource.datasources[0]?.uid);
      for (const { expr } of panel.targets) {
        expect(metricsIn(expr).length, `${panel.title}: ${expr}`).toBeGreaterThan(0);
        for (const metric of metricsIn(expr)) expect(names.has(metric), `${panel.title} reads ${metric}, which nothing registers`).toBe(true);
      }
    }
  });

  it('the alert rules read only registered metrics and cover lag, dead letters, failed rollbacks and partitions without an owner', () => {
    for (const rule of rules) {
      expect(['warning', 'critical']).toContain(rule.labels.severity);
      expect(rule.annotations.summary.length).toBeGreaterThan(10);
      for (const metric of metricsIn(rule.expr)) expect(names.has(metric), `${rule.alert} reads ${metric}, which nothing registers`).toBe(true);
    }
    const read = (alert: string) => rules.find((r) => r.alert === alert)?.expr ?? '';
    expect(read('StacklProjectionLagging')).toContain('stackl_projection_lag_events');
    expect(read('StacklDeadLettersGrowing')).toContain('stackl_stream_dead_letters');
    expect(read('StacklRollbacksFailed')).toContain('RollbackFailed');
    expect(read('StacklPartitionWithoutOwner')).toContain('stackl_stream_owned_partitions');
  });

  it('Compose mounts the rules into Prometheus and the dashboard into Grafana, and every role serves metrics', () => {
    const compose = parse(read('deploy/compose/compose.yaml'), { merge: true }) as { services: Record<string, { volumes?: string[]; environment?: Record<string, string> }> };
    expect(compose.services.prometheus?.volumes).toContain('../prometheus/alerts.yml:/etc/prometheus/alerts.yml:ro');
    expect(compose.services.grafana?.volumes).toContain('../grafana/stackl-dashboard.json:/var/lib/grafana/dashboards/stackl.json:ro');
    expect(compose.services.worker?.environment?.STACKL_METRICS_PORT).toBe('9464');
    const prometheus = parse(read('deploy/compose/prometheus.yml')) as { rule_files: string[]; scrape_configs: { job_name: string; dns_sd_configs?: { names: string[]; port: number }[] }[] };
    expect(prometheus.rule_files).toContain('/etc/prometheus/alerts.yml');
    const roles = prometheus.scrape_configs.find((c) => c.job_name === 'stackl-roles')?.dns_sd_configs?.[0];
    expect(roles?.port).toBe(9464);
    expect(roles?.names.sort()).toEqual(['agent', 'broker', 'notifier', 'projector', 'worker']);
  });
});
