// The files a combined KRaft node needs: server.properties and the logging
// configuration of its release line. Settings are sized for a 2-core machine; by
// default one node with a single replica (INFRA.md explains each one that deviates
// from Kafka's defaults). A node can also be one of a cluster, and its client
// listener SASL_SSL instead of PLAINTEXT.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BrokerLayout {
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  configDir: string;
  logsDir: string;
  /** A node of a multi-node cluster; absent: node 1, the only voter. */
  cluster?: ClusterMembership;
  /** A SASL_SSL client listener (also between brokers) in place of PLAINTEXT. */
  secure?: SecureListener;
}

export interface ClusterMembership {
  nodeId: number;
  /** Every node's controller listener, this one's included. */
  voters: { nodeId: number; host: string; controllerPort: number }[];
}

export interface SecureListener {
  /** PEM: the broker's private key followed by its certificate. */
  keystoreFile: string;
  /** PEM: the certificate authority that signed the broker's and the clients' certificates. */
  truststoreFile: string;
  /** The SCRAM-SHA-256 user brokers log in as to each other (created at format time). */
  interBroker: { username: string; password: string };
  /** PLAIN logins are checked against the listener's JAAS configuration, not the SCRAM store. */
  plainUsers: Record<string, string>;
  /** Also listen (SASL_SSL) on [::1] at this port. */
  ipv6Port?: number;
}

const CLIENT = 'PLAINTEXT';
const SECURE = 'SASL_SSL';
const SECURE_IPV6 = 'SASL_SSL_IPV6';
export const SASL_MECHANISMS_ENABLED = ['SCRAM-SHA-256', 'SCRAM-SHA-512', 'PLAIN'];

export function serverProperties(layout: BrokerLayout): string {
  const { host, port, controllerPort, secure } = layout;
  const voters = layout.cluster?.voters ?? [{ nodeId: 1, host, controllerPort }];
  // Internal topics need as many replicas as there are nodes (up to 3), or they are never
  // created; with three, one node may be down and acks=all writes still go through.
  const replicas = Math.min(3, voters.length);
  const minIsr = voters.length >= 3 ? 2 : 1;
  const client = secure === undefined ? CLIENT : SECURE;
  const clientListeners = [`${client}://${host}:${port}`, ...(secure?.ipv6Port === undefined ? [] : [`${SECURE_IPV6}://[::1]:${secure.ipv6Port}`])];
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': layout.cluster?.nodeId ?? 1,
    'controller.quorum.voters': voters.map((v) => `${v.nodeId}@${v.host}:${v.controllerPort}`).join(','),
    listeners: [...clientListeners, `CONTROLLER://${host}:${controllerPort}`].join(','),
    'advertised.listeners': clientListeners.join(','),
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': client,
    'listener.security.protocol.map': secure === undefined ? 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT' : `${SECURE}:SASL_SSL,${SECURE_IPV6}:SASL_SSL,CONTROLLER:PLAINTEXT`,
    'log.dirs': layout.dataDir,
    'offsets.topic.replication.factor': replicas,
    'transaction.state.log.replication.factor': replicas,
    'transaction.state.log.min.isr': minIsr,
    'share.coordinator.state.topic.replication.factor': replicas,
    'share.coordinator.state.topic.min.isr': minIsr,
    'default.replication.factor': replicas,
    'min.insync.replicas': minIsr,
    // Topics are created by the topics/ admin step with their declared configs.
    'auto.create.topics.enable': false,
    'num.partitions': 1,
    // Without this every first group join waits 3 s.
    'group.initial.rebalance.delay.ms': 0,
    'num.network.threads': 2,
    'num.io.threads': 4,
    'background.threads': 4,
    // The cleaner's default dedupe buffer takes 128 MiB of heap at start.
    'log.cleaner.dedupe.buffer.size': 16 * 1024 * 1024,
    'log.cleaner.threads': 1,
    'offsets.topic.num.partitions': 10,
    'transaction.state.log.num.partitions': 10,
    ...(voters.length > 1 ? failoverSettings : {}),
    ...(secure === undefined ? {} : secureSettings(secure)),
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
}

/**
 * The controllers fence a silent broker (and move its partitions' leadership) after
 * broker.session.timeout.ms, 9 s by default; on loopback a node that stops heartbeating
 * for 4 s is dead, and tests that kill a node wait half as long.
 */
const failoverSettings = {
  'broker.heartbeat.interval.ms': 1000,
  'broker.session.timeout.ms': 4000,
};

/** TLS from PEM files (KIP-651), SASL with SCRAM and PLAIN on every SASL_SSL listener. */
function secureSettings(secure: SecureListener): Record<string, string> {
  const { username, password } = secure.interBroker;
  const scram = jaas('org.apache.kafka.common.security.scram.ScramLoginModule', { username, password });
  const plain = jaas('org.apache.kafka.common.security.plain.PlainLoginModule', {
    username,
    password,
    ...Object.fromEntries(Object.entries({ [username]: password, ...secure.plainUsers }).map(([user, pw]) => [`user_${user}`, pw])),
  });
  const perListener = (listener: string): Record<string, string> => ({
    [`listener.name.${listener.toLowerCase()}.scram-sha-256.sasl.jaas.config`]: scram,
    [`listener.name.${listener.toLowerCase()}.scram-sha-512.sasl.jaas.config`]: scram,
    [`listener.name.${listener.toLowerCase()}.plain.sasl.jaas.config`]: plain,
  });
  return {
    'sasl.enabled.mechanisms': SASL_MECHANISMS_ENABLED.join(','),
    'sasl.mechanism.inter.broker.protocol': 'SCRAM-SHA-256',
    'ssl.keystore.type': 'PEM',
    'ssl.keystore.location': secure.keystoreFile,
    'ssl.truststore.type': 'PEM',
    'ssl.truststore.location': secure.truststoreFile,
    // A client may present a certificate (then it must be signed by our CA); SASL is what authenticates.
    'ssl.client.auth': 'requested',
    ...perListener(SECURE),
    ...(secure.ipv6Port === undefined ? {} : perListener(SECURE_IPV6)),
  };
}

/** A JAAS line; values are generated names and passwords, refused if they would need quoting. */
function jaas(module: string, options: Record<string, string>): string {
  const pairs = Object.entries(options).map(([key, value]) => {
    if (!/^[A-Za-z0-9._-]+$/.test(key) || !/^[A-Za-z0-9._-]+$/.test(value)) throw new Error(`JAAS option ${key} holds characters this local configuration does not quote`);
    return `${key}="${value}"`;
  });
  return `${module} required ${pairs.join(' ')};`;
}

/** Kafka 4.x reads log4j2 properties; 3.x reads log4j 1 properties (through reload4j). */
export function loggingConfig(major: number, logFile: string): { file: string; jvmFlag: string; text: string } {
  if (major >= 4) {
    const text = [
      'status = warn',
      'appender.file.type = File',
      'appender.file.name = file',
      `appender.file.fileName = ${logFile}`,
      'appender.file.layout.type = PatternLayout',
      'appender.file.layout.pattern = [%d] %p %m (%c)%n',
      'rootLogger.level = info',
      'rootLogger.appenderRef.file.ref = file',
      'logger.kafka.name = kafka',
      'logger.kafka.level = info',
      'logger.state.name = state.change.logger',
      'logger.state.level = warn',
      '',
    ].join('\n');
    return { file: 'log4j2.properties', jvmFlag: '-Dlog4j2.configurationFile=', text };
  }
  const text = [
    'log4j.rootLogger=INFO, file',
    'log4j.appender.file=org.apache.log4j.FileAppender',
    `log4j.appender.file.File=${logFile}`,
    'log4j.appender.file.layout=org.apache.log4j.PatternLayout',
    'log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n',
    'log4j.logger.state.change.logger=WARN',
    '',
  ].join('\n');
  return { file: 'log4j.properties', jvmFlag: '-Dlog4j.configuration=file:', text };
}

export function writeBrokerConfig(layout: BrokerLayout, major: number, name = 'kafka'): { propertiesFile: string; loggingFlag: string } {
  const propertiesFile = join(layout.configDir, 'server.properties');
  // A secure listener's file holds the brokers' own passwords.
  writeFileSync(propertiesFile, serverProperties(layout), { mode: 0o600 });
  const logging = loggingConfig(major, join(layout.logsDir, `${name}-server.log`));
  const loggingFile = join(layout.configDir, logging.file);
  writeFileSync(loggingFile, logging.text);
  return { propertiesFile, loggingFlag: `${logging.jvmFlag}${loggingFile}` };
}
