// The files a single combined KRaft node needs: server.properties and the logging
// configuration of its release line. Settings are sized for a 2-core machine and a
// single replica (INFRA.md explains each one that deviates from Kafka's defaults).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface BrokerLayout {
  host: string;
  port: number;
  controllerPort: number;
  dataDir: string;
  configDir: string;
  logsDir: string;
}

export function serverProperties(layout: BrokerLayout): string {
  const { host, port, controllerPort } = layout;
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    'controller.quorum.voters': `1@${host}:${controllerPort}`,
    listeners: `PLAINTEXT://${host}:${port},CONTROLLER://${host}:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://${host}:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': layout.dataDir,
    // One node: every internal topic must have one replica, or it is never created.
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
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
  };
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n')
    .concat('\n');
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

export function writeBrokerConfig(layout: BrokerLayout, major: number): { propertiesFile: string; loggingFlag: string } {
  const propertiesFile = join(layout.configDir, 'server.properties');
  writeFileSync(propertiesFile, serverProperties(layout));
  const logging = loggingConfig(major, join(layout.logsDir, 'kafka-server.log'));
  const loggingFile = join(layout.configDir, logging.file);
  writeFileSync(loggingFile, logging.text);
  return { propertiesFile, loggingFlag: `${logging.jvmFlag}${loggingFile}` };
}
