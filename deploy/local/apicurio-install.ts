// Installs Apicurio Registry (the Quarkus fast-jar of io.apicurio:apicurio-registry-app,
// classifier `all`, a tar.gz) from Maven Central into the cache shared by every clone, and
// finds a Java it can run on (Apicurio 3.3 needs 21 or newer; Kafka is happy with 17).
// The tarball is fetched with `dependency:copy` and unpacked by tar: the unpack goal of
// the older dependency plugins cuts the PAX long names of some jars, and Quarkus then
// fails to find them.
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, closeSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ServiceUnavailableError } from '../../core/errors.js';

export const APICURIO_VERSION = '3.3.3';
export const APICURIO_MIN_JAVA = 21;
const ARTIFACT = `io.apicurio:apicurio-registry-app:${APICURIO_VERSION}:tar.gz:all`;
const COPY_GOAL = 'org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy';

export function apicurioInstallDir(cacheDir: string): string {
  return join(cacheDir, `apicurio-${APICURIO_VERSION}`);
}

/**
 * The folder holding quarkus-run.jar, downloading and unpacking first when the cache lacks
 * it. The `complete` marker (naming that folder) is written last, so an interrupted
 * download is redone rather than half used.
 */
export async function ensureApicurioInstalled(cacheDir: string, logFile: string, onProgress: (message: string) => void = () => {}): Promise<string> {
  const dir = apicurioInstallDir(cacheDir);
  const marker = join(dir, 'complete');
  if (existsSync(marker)) {
    const appDir = join(dir, readFileSync(marker, 'utf8').trim());
    if (existsSync(join(appDir, 'quarkus-run.jar'))) return appDir;
  }
  onProgress(`downloading Apicurio Registry ${APICURIO_VERSION} (about 160 MB) from Maven Central (once; cached in ${dir})`);
  rmSync(dir, { recursive: true, force: true });
  const download = join(dir, 'download');
  const unpacked = join(dir, 'app');
  mkdirSync(download, { recursive: true });
  mkdirSync(unpacked, { recursive: true });
  const fail = (what: string): never => {
    throw new ServiceUnavailableError(
      'schema-registry',
      `could not ${what}; see ${logFile}. Is Maven installed and Maven Central reachable? Or set STACKL_SCHEMA_REGISTRY_URL to a registry that runs.`,
    );
  };
  const fetched = await run('mvn', ['-B', '-q', COPY_GOAL, `-Dartifact=${ARTIFACT}`, `-DoutputDirectory=${download}`], dir, logFile);
  const tarball = readdirSync(download).find((f) => f.endsWith('.tar.gz'));
  if (fetched !== 0 || tarball === undefined) fail(`download ${ARTIFACT} with Maven (exit ${fetched})`);
  const untarred = await run('tar', ['-xzf', join(download, tarball ?? ''), '-C', unpacked], dir, logFile);
  if (untarred !== 0) fail(`unpack ${tarball} with tar (exit ${untarred})`);
  const appDir = folderHolding(unpacked, 'quarkus-run.jar', 4) ?? fail(`find quarkus-run.jar in ${tarball}`);
  rmSync(download, { recursive: true, force: true });
  writeFileSync(marker, `${relative(dir, appDir) || '.'}\n`);
  return appDir;
}

function folderHolding(dir: string, file: string, depth: number): string | undefined {
  if (existsSync(join(dir, file))) return dir;
  if (depth === 0) return undefined;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const found = entry.isDirectory() ? folderHolding(join(dir, entry.name), file, depth - 1) : undefined;
    if (found !== undefined) return found;
  }
  return undefined;
}

/** The major version `java -version` reports (8 for "1.8.0_…"), or undefined when it does not run. */
export function javaMajor(java: string): number | undefined {
  const result = spawnSync(java, ['-version'], { encoding: 'utf8', timeout: 15_000 });
  if (result.error !== undefined || result.status !== 0) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(`${result.stderr}${result.stdout}`);
  if (match === null) return undefined;
  const first = Number(match[1]);
  return first === 1 ? Number(match[2]) : first;
}

/**
 * A java of 21 or newer: STACKL_REGISTRY_JAVA when set (and then only that), else
 * JAVA_HOME's, else the newest under /usr/lib/jvm, else the one on PATH.
 */
export function findRegistryJava(env: Record<string, string | undefined> = process.env, jvmRoot = '/usr/lib/jvm'): string {
  const how = 'set STACKL_REGISTRY_JAVA to the bin/java of a JDK 21+ (or install one, e.g. apt-get install openjdk-21-jre-headless / Temurin 21+)';
  const chosen = env.STACKL_REGISTRY_JAVA;
  if (chosen !== undefined && chosen !== '') {
    const major = javaMajor(chosen);
    if (major !== undefined && major >= APICURIO_MIN_JAVA) return chosen;
    throw new ServiceUnavailableError(
      'schema-registry',
      `Apicurio Registry ${APICURIO_VERSION} needs Java ${APICURIO_MIN_JAVA}+; STACKL_REGISTRY_JAVA=${chosen} ${major === undefined ? 'does not run' : `is Java ${major}`}: ${how}`,
    );
  }
  const found: { java: string; major: number | undefined }[] = [];
  const seen = new Set<string>();
  const look = (java: string): number | undefined => {
    const key = existsSync(java) ? realpathSync(java) : java;
    if (seen.has(key)) return undefined;
    seen.add(key);
    const major = javaMajor(java);
    found.push({ java, major });
    return major;
  };
  if (env.JAVA_HOME !== undefined && env.JAVA_HOME !== '') {
    const java = join(env.JAVA_HOME, 'bin', 'java');
    if ((look(java) ?? 0) >= APICURIO_MIN_JAVA) return java;
  }
  const installed = existsSync(jvmRoot) ? readdirSync(jvmRoot).map((d) => join(jvmRoot, d, 'bin', 'java')).filter((j) => existsSync(j)) : [];
  const usable = installed.map((java) => ({ java, major: look(java) ?? 0 })).filter((j) => j.major >= APICURIO_MIN_JAVA);
  const newest = usable.sort((a, b) => b.major - a.major)[0];
  if (newest !== undefined) return newest.java;
  const onPath = spawnSync('sh', ['-c', 'command -v java'], { encoding: 'utf8' }).stdout.trim();
  if (onPath !== '' && (look(onPath) ?? 0) >= APICURIO_MIN_JAVA) return onPath;
  const list = found.map((f) => `${f.java} (${f.major === undefined ? 'does not run' : `Java ${f.major}`})`).join(', ');
  throw new ServiceUnavailableError(
    'schema-registry',
    `Apicurio Registry ${APICURIO_VERSION} needs Java ${APICURIO_MIN_JAVA}+; found ${list === '' ? 'no java at all' : list}: ${how}`,
  );
}

function run(command: string, args: string[], cwd: string, logFile: string): Promise<number> {
  const fd = openSync(logFile, 'a');
  return new Promise<number>((resolve) => {
    const child = spawn(command, args, { cwd, stdio: ['ignore', fd, fd] });
    child.on('error', (error) => {
      appendFileSync(logFile, `${command}: ${error.message}\n`);
      resolve(127);
    });
    child.on('exit', (code) => resolve(code ?? 1));
  }).finally(() => closeSync(fd));
}
