// Installs an Apache Kafka broker from its Maven Central artifact
// (org.apache.kafka:kafka_2.13) into a cache shared by every clone on this machine.
// The artifact brings the broker's whole runtime classpath but no logging backend,
// so we add the one that matches the release line (reload4j for 3.x, log4j2 for 4.x).
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ServiceUnavailableError } from '../../core/errors.js';

export interface KafkaInstall {
  version: string;
  major: number;
  libDir: string;
}

interface MavenDependency {
  groupId: string;
  artifactId: string;
  version: string;
}

/** Logging backends per release line: Kafka 3.x logs through slf4j 1.7 + log4j 1, 4.x through log4j2. */
function loggingDependencies(major: number): MavenDependency[] {
  if (major >= 4) {
    return [
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-slf4j-impl', version: '2.25.3' },
      { groupId: 'org.apache.logging.log4j', artifactId: 'log4j-core', version: '2.25.3' },
    ];
  }
  return [
    { groupId: 'org.slf4j', artifactId: 'slf4j-reload4j', version: '1.7.36' },
    { groupId: 'ch.qos.reload4j', artifactId: 'reload4j', version: '1.2.25' },
  ];
}

export function kafkaInstallDir(cacheDir: string, version: string): string {
  return join(cacheDir, `kafka-${version}`);
}

export function isKafkaInstalled(cacheDir: string, version: string): boolean {
  return existsSync(join(kafkaInstallDir(cacheDir, version), 'complete'));
}

/**
 * Returns the install, downloading it first when the cache lacks it. The `complete`
 * marker is written last, so an interrupted download is redone rather than half used.
 */
export async function ensureKafkaInstalled(
  cacheDir: string,
  version: string,
  logFile: string,
  onProgress: (message: string) => void = () => {},
): Promise<KafkaInstall> {
  const major = Number(version.split('.')[0]);
  const dir = kafkaInstallDir(cacheDir, version);
  const libDir = join(dir, 'libs');
  if (isKafkaInstalled(cacheDir, version)) return { version, major, libDir };

  onProgress(`downloading Kafka ${version} and its runtime classpath from Maven Central (once; cached in ${dir})`);
  rmSync(libDir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  const dependencies = [
    { groupId: 'org.apache.kafka', artifactId: 'kafka_2.13', version },
    ...loggingDependencies(major),
  ];
  writeFileSync(join(dir, 'pom.xml'), pomFor(dependencies));
  const code = await run(
    'mvn',
    ['-B', '-q', '-f', join(dir, 'pom.xml'), 'dependency:copy-dependencies', '-DincludeScope=runtime', `-DoutputDirectory=${libDir}`],
    logFile,
  );
  const jars = existsSync(libDir) ? readdirSync(libDir).filter((f) => f.endsWith('.jar')) : [];
  if (code !== 0 || !jars.some((f) => f.startsWith(`kafka_2.13-${version}`))) {
    throw new ServiceUnavailableError(
      'kafka',
      `could not download Kafka ${version} with Maven (exit ${code}); see ${logFile}. ` +
        'Is Maven installed and Maven Central reachable? Or set KAFKA_BROKERS to a running broker.',
    );
  }
  writeFileSync(join(dir, 'complete'), `${new Date().toISOString()}\n`);
  return { version, major, libDir };
}

function pomFor(dependencies: MavenDependency[]): string {
  const deps = dependencies
    .map((d) => `    <dependency><groupId>${d.groupId}</groupId><artifactId>${d.artifactId}</artifactId><version>${d.version}</version></dependency>`)
    .join('\n');
  return `<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>stackl.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>1</version>
  <packaging>pom</packaging>
  <dependencies>
${deps}
  </dependencies>
</project>
`;
}

function run(command: string, args: string[], logFile: string): Promise<number> {
  const fd = openSync(logFile, 'a');
  return new Promise<number>((resolve) => {
    const child = spawn(command, args, { stdio: ['ignore', fd, fd] });
    child.on('error', () => resolve(127));
    child.on('exit', (code) => resolve(code ?? 1));
  }).finally(() => closeSync(fd));
}
