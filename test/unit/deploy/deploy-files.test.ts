// The container and cluster files in deploy/ cannot run here (no Docker, no cluster), so
// they are checked for what would break them silently: every role they start is a
// `stackl` command, every variable they set is one STACKL reads, the image is built from
// every source folder and runs unprivileged, and what Kubernetes selects exists.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, parseAllDocuments } from 'yaml';
import { commands } from '../../../api/cli/commands.js';

const ROOT = new URL('../../../', import.meta.url).pathname;
const read = (path: string) => readFileSync(join(ROOT, path), 'utf8');

/** The roles a deployment runs as long-lived processes (`stackl all` runs them in one). */
const ROLES = ['broker', 'worker', 'agent', 'projector', 'notifier', 'api'];

/** Every environment variable name STACKL's own code mentions. */
function variablesStacklReads(): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string): void => {
    for (const entry of readdirSync(join(ROOT, dir))) {
      const path = join(dir, entry);
      if (statSync(join(ROOT, path)).isDirectory()) walk(path);
      else if (path.endsWith('.ts')) for (const m of read(path).matchAll(/\b(STACKL_[A-Z0-9_]+|KAFKA_[A-Z0-9_]+|DATABASE_URL|REDIS_URL|RABBITMQ_URL)\b/g)) names.add(m[1] as string);
    }
  };
  for (const dir of ['core', 'topics', 'channels', 'processors', 'workers', 'agents', 'api']) walk(dir);
  return names;
}

interface ComposeService {
  image?: string;
  command?: string[];
  environment?: Record<string, unknown>;
  depends_on?: unknown;
}

const compose = parse(read('deploy/compose/compose.yaml'), { merge: true }) as { services: Record<string, ComposeService> };
const stacklServices = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('stackl:'));
const manifests = parseAllDocuments(read('deploy/kubernetes/stackl.yaml')).map((d) => {
  expect(d.errors).toEqual([]);
  return d.toJS({ maxAliasCount: -1 }) as { kind: string; metadata: { name: string }; spec?: Record<string, unknown>; data?: Record<string, string>; stringData?: Record<string, string> };
});

interface Container {
  name: string;
  args: string[];
  env?: { name: string; value: string }[];
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  readinessProbe?: { httpGet: { path: string } };
  livenessProbe?: { httpGet: { path: string } };
}
type PodSpec = { containers: Container[]; initContainers?: Container[]; securityContext?: { runAsNonRoot?: boolean } };
const podOf = (m: (typeof manifests)[number]) => (m.spec as { template: { spec: PodSpec; metadata: { labels: Record<string, string> } } }).template;

describe('the Dockerfile', () => {
  const dockerfile = read('deploy/docker/Dockerfile');
  const lines = dockerfile.split('\n').filter((l) => !l.startsWith('#'));

  it('builds in one stage and runs in another, as a user other than root', () => {
    expect(lines.filter((l) => l.startsWith('FROM ')).length).toBeGreaterThanOrEqual(2);
    const runStage = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runStage).toMatch(/\nUSER (?!root\b|0\b)\S+/);
  });

  it('copies every folder the build compiles, and runs the CLI the build makes', () => {
    const include = (JSON.parse(read('tsconfig.build.json')) as { include: string[] }).include;
    const copied = lines.filter((l) => l.startsWith('COPY ') && !l.includes('--from')).map((l) => l.split(/\s+/)[1]);
    for (const folder of include) expect(copied).toContain(folder);
    expect(dockerfile).toContain('ENTRYPOINT ["node", "dist/api/cli/main.js"]');
    expect(statSync(join(ROOT, 'api/cli/main.ts')).isFile()).toBe(true);
  });
});

describe('compose.yaml', () => {
  it('runs every role, each as a stackl command', () => {
    for (const [name, service] of stacklServices) expect([name, Object.hasOwn(commands, service.command?.[0] ?? '')]).toEqual([name, true]);
    const started = new Set(stacklServices.map(([, s]) => s.command?.[0]));
    for (const role of ROLES) expect(started).toContain(role);
    expect(started).toContain('migrate');
  });

  it('sets only variables STACKL reads', () => {
    const known = variablesStacklReads();
    for (const [name, service] of stacklServices) {
      for (const variable of Object.keys(service.environment ?? {})) expect([name, variable, known.has(variable)]).toEqual([name, variable, true]);
    }
  });

  it('runs a 3-node KRaft cluster, and roles only after the migrations', () => {
    const kafka = Object.entries(compose.services).filter(([, s]) => s.image?.startsWith('apache/kafka'));
    expect(kafka.map(([, s]) => s.environment?.KAFKA_NODE_ID)).toEqual([1, 2, 3]);
    for (const [, s] of stacklServices.filter(([, s]) => ROLES.includes(s.command?.[0] ?? ''))) {
      expect(s.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' } });
    }
    const prometheus = parse(read('deploy/compose/prometheus.yml')) as { scrape_configs: { static_configs: { targets: string[] }[] }[] };
    expect(prometheus.scrape_configs[0]?.static_configs[0]?.targets).toEqual(['api:8080']);
  });

  it('runs a schema registry only when asked (a profile), keeping its schemas in the PostgreSQL it shares', () => {
    const registry = compose.services.registry as ComposeService & { profiles?: string[] };
    expect(registry.image).toBe('apicurio/apicurio-registry:3.3.3');
    expect(registry.profiles).toEqual(['registry']);
    expect(registry.environment).toMatchObject({ APICURIO_STORAGE_KIND: 'sql', APICURIO_STORAGE_SQL_KIND: 'postgresql', APICURIO_DATASOURCE_URL: 'jdbc:postgresql://postgres:5432/stackl' });
    // Roles use it only when the operator names it; empty means no registry (core/config.ts).
    for (const [, service] of stacklServices) expect(service.environment?.STACKL_SCHEMA_REGISTRY_URL).toBe('${STACKL_SCHEMA_REGISTRY_URL:-}');
  });
});

describe('the Kubernetes manifests', () => {
  const deployments = manifests.filter((m) => m.kind === 'Deployment');

  it('deploy every role, each as a stackl command, unprivileged, with resources', () => {
    const roles = deployments.map((d) => podOf(d).spec.containers[0]?.args[0]);
    expect(roles.sort()).toEqual([...ROLES].sort());
    for (const d of deployments) {
      const pod = podOf(d).spec;
      expect(pod.securityContext?.runAsNonRoot).toBe(true);
      for (const c of pod.containers) {
        expect(Object.hasOwn(commands, c.args[0] ?? '')).toBe(true);
        expect(c.resources?.requests?.memory).toBeDefined();
        expect(c.resources?.limits?.memory).toBeDefined();
      }
    }
  });

  it('probe the API on routes it serves', () => {
    const api = podOf(deployments.find((d) => d.metadata.name === 'stackl-api')!).spec.containers[0]!;
    const health = read('api/routes/health.ts');
    for (const path of [api.readinessProbe?.httpGet.path, api.livenessProbe?.httpGet.path]) expect(health).toContain(`'${path}'`);
  });

  it('set only variables STACKL reads', () => {
    const known = variablesStacklReads();
    const set = [
      ...manifests.flatMap((m) => Object.keys(m.data ?? {})),
      ...manifests.flatMap((m) => Object.keys(m.stringData ?? {})),
      ...deployments.flatMap((d) => podOf(d).spec.containers.flatMap((c) => (c.env ?? []).map((e) => e.name))),
    ];
    expect(set.length).toBeGreaterThan(5);
    for (const variable of set) expect([variable, known.has(variable)]).toEqual([variable, true]);
  });

  it('guard the roles that run several instances with budgets that select them, and migrate in a Job', () => {
    for (const pdb of manifests.filter((m) => m.kind === 'PodDisruptionBudget')) {
      const selector = (pdb.spec as { selector: { matchLabels: Record<string, string> } }).selector.matchLabels;
      const target = deployments.find((d) => Object.entries(selector).every(([k, v]) => podOf(d).metadata.labels[k] === v));
      expect(target, pdb.metadata.name).toBeDefined();
      expect((target?.spec as { replicas: number }).replicas).toBeGreaterThan(1);
    }
    const job = manifests.find((m) => m.kind === 'Job')!;
    expect(podOf(job).spec.containers.map((c) => c.args[0])).toEqual(['migrate']);
    expect(podOf(job).spec.initContainers?.map((c) => c.args[0])).toEqual(['topics']);
  });
});
